using System.Diagnostics;
using System.Diagnostics.Metrics;
using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>Memory and heartbeat CPU with <see cref="Locks"/> idle locks held by one LockManager.</summary>
internal sealed record ScaleRow(
    int Locks,
    double AcquireSeconds,
    double BytesPerLock,
    double TableBytesPerLock,
    double WindowSeconds,
    long Heartbeats,
    double CpuPercentOfOneCore,
    double CpuMicrosecondsPerHeartbeat)
{
    /// <summary>What the lock holder's side costs: everything but the (in-memory) table's records, which DynamoDB would store.</summary>
    public double HolderBytesPerLock => BytesPerLock - TableBytesPerLock;
}

/// <summary>
/// Scenario 5a: N idle locks held by one LockManager on the in-memory table, with the default lease (20 s) and
/// heartbeat (5 s). Memory is the managed heap after a full collection, before and after acquiring; CPU is this
/// process's CPU time over a window of whole heartbeat periods, divided by the heartbeats the library counted.
/// </summary>
internal static class ScaleScenario
{
    public static async Task<IReadOnlyList<ScaleRow>> RunAsync(BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var rows = new List<ScaleRow>();
        foreach (var count in options.ScaleLockCounts)
        {
            rows.Add(await MeasureAsync(count, options.HeartbeatCpuWindow, cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    private static async Task<ScaleRow> MeasureAsync(int count, TimeSpan window, CancellationToken cancellationToken)
    {
        var tableBytes = await TableBytesPerLockAsync(count, cancellationToken).ConfigureAwait(false);

        await using var node = LockNode.Start($"scale-{count}", new InMemoryLockTable());
        _ = await node.Client.GetStatusAsync("warm-up", cancellationToken).ConfigureAwait(false);
        var before = HeapBytes();
        var started = Timing.Now();
        var holder = await BulkHolder.HoldAsync(node.System, node.Manager, "lock-", count, cancellationToken).ConfigureAwait(false);
        var acquireSeconds = Timing.MillisecondsSince(started) / 1000;
        var bytesPerLock = (double)(HeapBytes() - before) / count;

        long heartbeats = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == LockMetrics.MeterName && instrument.Name == "dynamolock.heartbeats")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref heartbeats, value));
        listener.Start();

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var windowStart = Timing.Now();
        await Task.Delay(window, cancellationToken).ConfigureAwait(false);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var windowSeconds = Timing.MillisecondsSince(windowStart) / 1000;
        var counted = Interlocked.Read(ref heartbeats);
        GC.KeepAlive(holder);
        return new ScaleRow(
            count,
            acquireSeconds,
            bytesPerLock,
            tableBytes,
            windowSeconds,
            counted,
            cpu.TotalSeconds / windowSeconds * 100,
            counted == 0 ? double.NaN : cpu.TotalMicroseconds / counted);
    }

    /// <summary>What the in-memory table's own records weigh, measured alone so the holder's share can be told apart.</summary>
    private static async Task<double> TableBytesPerLockAsync(int count, CancellationToken cancellationToken)
    {
        var before = HeapBytes();
        var table = new InMemoryLockTable();
        for (var i = 0; i < count; i++)
        {
            await table.TryAcquireAsync(new AcquireLockRequest(new LockKey($"lock-{i}"), "scale", TimeSpan.FromSeconds(20)), cancellationToken).ConfigureAwait(false);
        }

        var bytes = (double)(HeapBytes() - before) / count;
        GC.KeepAlive(table);
        return bytes;
    }

    private static long HeapBytes()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
