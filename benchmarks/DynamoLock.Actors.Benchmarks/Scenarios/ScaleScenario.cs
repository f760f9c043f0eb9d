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
    double IdleCpuPercentOfOneCore,
    double CpuMicrosecondsPerHeartbeat)
{
    /// <summary>What the lock holder's side costs: everything but the (in-memory) table's records, which DynamoDB would store.</summary>
    public double HolderBytesPerLock => BytesPerLock - TableBytesPerLock;
}

/// <summary>
/// Scenario 5a: N idle locks held by one LockManager on the in-memory table, with the default lease (20 s) and
/// heartbeat (5 s). Memory is the managed heap after a full collection, before and after acquiring; CPU is this
/// process's CPU time over a window of whole heartbeat periods, less what the same node uses holding nothing (Akka's
/// scheduler and dispatcher threads), divided by the heartbeats the library counted.
/// </summary>
internal static class ScaleScenario
{
    public static async Task<IReadOnlyList<ScaleRow>> RunAsync(BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var rows = new List<ScaleRow>();
        double idle;
        await using (var node = LockNode.Start("scale-idle", new InMemoryLockTable()))
        {
            idle = (await CpuOverAsync(options.HeartbeatCpuWindow, cancellationToken).ConfigureAwait(false)).Percent;
        }

        foreach (var count in options.ScaleLockCounts)
        {
            rows.Add(await MeasureAsync(count, options.HeartbeatCpuWindow, idle, cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    private static async Task<ScaleRow> MeasureAsync(int count, TimeSpan window, double idlePercent, CancellationToken cancellationToken)
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
            if (instrument.Meter.Name == DynamoLockDiagnostics.MeterName && instrument.Name == "dynamolock.heartbeats")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref heartbeats, value));
        listener.Start();

        // Locks acquired together heartbeat together, once per interval: the window starts half an interval after the
        // grants and lasts whole intervals, so that it holds whole bunches of heartbeats rather than cutting one.
        await Task.Delay(new DynamoLockSettings().HeartbeatInterval / 2, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref heartbeats, 0);
        var (percent, seconds, cpu) = await CpuOverAsync(window, cancellationToken).ConfigureAwait(false);
        var counted = Interlocked.Read(ref heartbeats);
        GC.KeepAlive(holder);
        var aboveIdle = cpu - TimeSpan.FromSeconds(idlePercent / 100 * seconds);
        return new ScaleRow(
            count,
            acquireSeconds,
            bytesPerLock,
            tableBytes,
            seconds,
            counted,
            percent,
            idlePercent,
            counted == 0 ? double.NaN : Math.Max(0, aboveIdle.TotalMicroseconds) / counted);
    }

    /// <summary>This process's CPU time over <paramref name="window"/>: as a percentage of one core, the window's length, and the time itself.</summary>
    private static async Task<(double Percent, double Seconds, TimeSpan Cpu)> CpuOverAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        using var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        var start = Timing.Now();
        await Task.Delay(window, cancellationToken).ConfigureAwait(false);
        process.Refresh();
        var cpu = process.TotalProcessorTime - before;
        var seconds = Timing.MillisecondsSince(start) / 1000;
        return (cpu.TotalSeconds / seconds * 100, seconds, cpu);
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
