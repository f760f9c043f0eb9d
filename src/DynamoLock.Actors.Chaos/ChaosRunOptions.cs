using DynamoLock.Actors.Chaos.Simulation;

namespace DynamoLock.Actors.Chaos;

/// <summary>The shape of a chaos run.</summary>
public sealed record ChaosRunOptions
{
    /// <summary>The DynamoDB endpoint (a local server).</summary>
    public required string Endpoint { get; init; }

    /// <summary>The lock table (created if missing).</summary>
    public string TableName { get; init; } = "dynamolock-chaos";

    /// <summary>Clients: actor systems, each with its own DynamoDB client and fault injector.</summary>
    public int Clients { get; init; } = 4;

    /// <summary>Workers per client.</summary>
    public int WorkersPerClient { get; init; } = 2;

    /// <summary>Keys competed for.</summary>
    public int Keys { get; init; } = 2;

    /// <summary>How long the workers run.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The seed of every random choice (faults, keys, hold times, partitions).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>HTTP fault rates.</summary>
    public FaultPlan Faults { get; init; } = FaultPlan.Default;

    /// <summary>How often a random client is cut off from the table (for 1.5 leases); <see langword="null"/> for never.</summary>
    public TimeSpan? PartitionEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Clock rates of the clients' monotonic clocks, in client order (1.0 = exact; missing entries are exact). Drift within
    /// the lease's proportion of <see cref="DynamoLockSettings.DriftAllowance"/> keeps every guarantee.
    /// </summary>
    public IReadOnlyList<double> ClockRates { get; init; } = [];

    /// <summary>
    /// Which clients hold their locks under sessions (<see cref="DynamoLockSettings.UseSessions"/>, docs/sessions.md):
    /// none (the default), every one, or with <see cref="SessionUse.Mixed"/> the odd-numbered ones, so session-held and
    /// per-lock records meet on the same keys.
    /// </summary>
    public SessionUse Sessions { get; init; } = SessionUse.Never;

    /// <summary>Lock timing: lease 3 s, heartbeat 500 ms, refresh 200 ms, safety margin 1 s, drift 200 ms.</summary>
    public DynamoLockSettings Settings { get; init; } = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(3),
        HeartbeatInterval = TimeSpan.FromMilliseconds(500),
        RefreshInterval = TimeSpan.FromMilliseconds(200),
        SafetyMargin = TimeSpan.FromSeconds(1),
        DriftAllowance = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>
    /// Whether client <paramref name="number"/> (counted from 1; in a run with processes, the number of the worker process
    /// started) holds its locks under sessions for <paramref name="sessions"/>: with <see cref="SessionUse.Mixed"/>, the
    /// odd-numbered ones do, so every mixed run has both modes.
    /// </summary>
    public static bool UsesSessions(SessionUse sessions, int number) => sessions switch
    {
        SessionUse.Never => false,
        SessionUse.Always => true,
        _ => number % 2 == 1,
    };
}
