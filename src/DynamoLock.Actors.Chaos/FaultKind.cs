namespace DynamoLock.Actors.Chaos;

/// <summary>The faults the harness injects.</summary>
public enum FaultKind
{
    /// <summary>Added latency.</summary>
    Latency,

    /// <summary>A latency spike.</summary>
    LatencySpike,

    /// <summary>HTTP 500/503.</summary>
    ServerError,

    /// <summary>Throttling.</summary>
    Throttle,

    /// <summary>Connection dropped before sending.</summary>
    DropBeforeSending,

    /// <summary>Applied, response lost.</summary>
    LoseResponse,

    /// <summary>A request refused during a partition of its client.</summary>
    Partitioned,

    /// <summary>A worker process SIGKILLed.</summary>
    ProcessKilled,

    /// <summary>A worker process SIGSTOPped for longer than the lease, then SIGCONTed.</summary>
    ProcessPaused,
}
