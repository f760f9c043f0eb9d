using System.Diagnostics.Metrics;

namespace DynamoLock.Actors;

/// <summary>
/// The library's metrics, on the <c>DynamoLock.Actors</c> meter (System.Diagnostics.Metrics): collect them with
/// OpenTelemetry (<c>AddMeter("DynamoLock.Actors")</c>) or <c>dotnet-counters</c>.
/// </summary>
internal static class LockMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = DynamoLockDiagnostics.MeterName;

    private static readonly Meter Meter = new(MeterName);

    internal static readonly Counter<long> Acquisitions = Meter.CreateCounter<long>("dynamolock.acquisitions", description: "Locks granted (by the table or by a local hand-off).");
    internal static readonly Counter<long> ContentionWaits = Meter.CreateCounter<long>("dynamolock.contention_waits", description: "Acquisitions that found the lock held elsewhere and started waiting.");
    internal static readonly Counter<long> Heartbeats = Meter.CreateCounter<long>("dynamolock.heartbeats", description: "Successful heartbeat writes.");
    internal static readonly Counter<long> HeartbeatFailures = Meter.CreateCounter<long>("dynamolock.heartbeat_failures", description: "Heartbeat writes that failed transiently and were retried.");
    internal static readonly Counter<long> Losses = Meter.CreateCounter<long>("dynamolock.losses", description: "Locks lost, by reason.");
    internal static readonly Counter<long> Releases = Meter.CreateCounter<long>("dynamolock.releases", description: "Locks released.");
    internal static readonly UpDownCounter<long> HeldLocks = Meter.CreateUpDownCounter<long>("dynamolock.held_locks", description: "Locks held by this process.");
    internal static readonly UpDownCounter<long> RestingLocks = Meter.CreateUpDownCounter<long>("dynamolock.resting_locks", description: "Session-held locks with nothing to do, kept by the lock manager without an actor or a timer.");
    internal static readonly Counter<long> NoticesSent = Meter.CreateCounter<long>("dynamolock.notices_sent", description: "Notices that a lock was freed sent to the lock managers of waiting nodes (LockFreed over Akka.Remote), by owner.");
    internal static readonly Counter<long> NoticesReceived = Meter.CreateCounter<long>("dynamolock.notices_received", description: "Notices from other nodes that a lock was freed, handed to a lock actor of this node, by owner.");
    internal static readonly Histogram<double> TableLatency = Meter.CreateHistogram<double>("dynamolock.table.duration", unit: "ms", description: "Lock table call latency, by operation.");
}
