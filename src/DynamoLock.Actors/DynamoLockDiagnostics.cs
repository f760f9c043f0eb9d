namespace DynamoLock.Actors;

/// <summary>Names to subscribe to for this library's telemetry.</summary>
public static class DynamoLockDiagnostics
{
    /// <summary>
    /// The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/>: pass it to OpenTelemetry's
    /// <c>AddMeter</c> (instruments: <c>dynamolock.acquisitions</c>, <c>dynamolock.heartbeats</c>, <c>dynamolock.losses</c>, …).
    /// </summary>
    public const string MeterName = "DynamoLock.Actors";
}
