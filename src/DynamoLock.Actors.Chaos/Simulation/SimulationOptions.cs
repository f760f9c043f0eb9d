namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>One simulated run: its seed, its size, its timing and how hard the faults hit.</summary>
public sealed record SimulationOptions
{
    /// <summary>The one seed every random choice of the run derives from.</summary>
    public int Seed { get; init; }

    /// <summary>Nodes (lock managers, each with its own owner name, clock rate and faults).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>Keys the clients compete for.</summary>
    public int Keys { get; init; } = 2;

    /// <summary>Clients (requesters) on each node.</summary>
    public int ClientsPerNode { get; init; } = 3;

    /// <summary>Virtual time with faults and new acquisitions.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Virtual time after <see cref="Duration"/> with faults off and no new acquisitions, for the liveness checks.</summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>The lease every acquisition uses.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The heartbeat period.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often waiters re-read the record.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often waiters of an incarnation with notices re-read it: six times the refresh, as the library's defaults (1 s and 6 s).</summary>
    public TimeSpan NoticeRefreshInterval { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// The holder's safety margin. Kept small next to <see cref="DriftAllowance"/> so that the clock rates the
    /// simulation allows can expose both a missing margin and a missing drift allowance (see <see cref="MaxClockRate"/>).
    /// </summary>
    public TimeSpan SafetyMargin { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>What a waiter adds to the observed lease before taking over.</summary>
    public TimeSpan DriftAllowance { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Hand-offs between local requesters before the lock is released for other nodes.</summary>
    public int MaxLocalHandOffs { get; init; } = 3;

    /// <summary>
    /// The fastest node clock rate; the slowest is its inverse. The default, 1.14, gives a ratio of 1.2996 between the
    /// fastest and the slowest clock: inside the design's safety condition ((lease − margin) × ratio = 2339 ms &lt;
    /// lease + drift = 2400 ms), yet beyond what the lease alone (2000 / 1800 = 1.11) or a missing margin
    /// (2400 / 2000 = 1.2) would tolerate, so those mutations can be seen.
    /// </summary>
    public double MaxClockRate { get; init; } = 1.14;

    /// <summary>Which nodes hold their locks under sessions: by default each node's incarnation picks, so runs mix both modes.</summary>
    public SessionUse Sessions { get; init; } = SessionUse.Mixed;

    /// <summary>Whether faults are injected (they always stop for the quiet period).</summary>
    public bool Faults { get; init; } = true;

    /// <summary>A mutation name from <see cref="Simulator.MutationNames"/>, set on every core; <see langword="null"/> for none.</summary>
    public string? Mutation { get; init; }

    /// <summary>Keep the cores' log lines and the faults in the result's trace (for <c>--trace</c>).</summary>
    public bool Trace { get; init; }
}

/// <summary>Which simulated nodes hold their locks under sessions (one heartbeat per node) rather than each on its own.</summary>
public enum SessionUse
{
    /// <summary>Each node's incarnation picks at random, so a run mixes session-held and per-lock records.</summary>
    Mixed,

    /// <summary>No node uses sessions.</summary>
    Never,

    /// <summary>Every node uses sessions.</summary>
    Always,
}
