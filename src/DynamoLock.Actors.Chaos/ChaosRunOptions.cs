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

    /// <summary>Lock timing: lease 3 s, heartbeat 500 ms, refresh 200 ms, safety margin 1 s, drift 200 ms.</summary>
    public DynamoLockSettings Settings { get; init; } = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(3),
        HeartbeatInterval = TimeSpan.FromMilliseconds(500),
        RefreshInterval = TimeSpan.FromMilliseconds(200),
        SafetyMargin = TimeSpan.FromSeconds(1),
        DriftAllowance = TimeSpan.FromMilliseconds(200),
    };
}
