namespace DynamoLock.Actors;

/// <summary>Names to subscribe to for this library's telemetry.</summary>
public static class DynamoLockDiagnostics
{
    /// <summary>
    /// The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/>: pass it to OpenTelemetry's
    /// <c>AddMeter</c> (instruments: <c>dynamolock.acquisitions</c>, <c>dynamolock.heartbeats</c>, <c>dynamolock.losses</c>, …).
    /// </summary>
    public const string MeterName = "DynamoLock.Actors";

    /// <summary>
    /// The name of the library's <see cref="System.Diagnostics.ActivitySource"/>: pass it to OpenTelemetry's
    /// <c>AddSource</c>. Spans: <c>dynamolock.acquire</c> (from the request to its outcome, the wait included; tags
    /// <c>dynamolock.key</c>, <c>dynamolock.owner</c>, <c>dynamolock.fencing_token</c>, <c>dynamolock.outcome</c>,
    /// <c>dynamolock.wait_ms</c>), <c>dynamolock.takeover</c> (under its acquire), <c>dynamolock.release</c> and
    /// <c>dynamolock.lost</c> (<c>dynamolock.loss_reason</c>, linked to the acquire that granted the lock). The AWS SDK's
    /// own spans for a lock's table calls nest under these. No span per heartbeat: the <c>dynamolock.heartbeats</c> counter
    /// counts them.
    /// </summary>
    public const string ActivitySourceName = "DynamoLock.Actors";
}
