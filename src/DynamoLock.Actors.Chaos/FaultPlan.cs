namespace DynamoLock.Actors.Chaos;

/// <summary>How often each kind of HTTP fault strikes a client's DynamoDB requests (probabilities per request).</summary>
public sealed record FaultPlan
{
    /// <summary>No faults.</summary>
    public static readonly FaultPlan None = new();

    /// <summary>Every fault type at rates that keep a run busy without stopping all progress.</summary>
    public static readonly FaultPlan Default = new()
    {
        Latency = 0.2,
        LatencySpike = 0.01,
        ServerError = 0.02,
        Throttle = 0.02,
        DropBeforeSending = 0.02,
        LoseResponse = 0.02,
    };

    /// <summary>Adds 1-20 ms before sending.</summary>
    public double Latency { get; init; }

    /// <summary>Adds 200-800 ms before sending.</summary>
    public double LatencySpike { get; init; }

    /// <summary>Answers 500 or 503 without applying the request.</summary>
    public double ServerError { get; init; }

    /// <summary>Answers 400 ProvisionedThroughputExceededException without applying the request.</summary>
    public double Throttle { get; init; }

    /// <summary>Fails before the request is sent.</summary>
    public double DropBeforeSending { get; init; }

    /// <summary>The ambiguous case: the request is applied but its response is lost.</summary>
    public double LoseResponse { get; init; }
}
