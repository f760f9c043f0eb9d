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
    double CpuMicrosecondsPerHeartbeat,
    bool Sessions = false,
    double RestSeconds = 0,
    long Rested = 0)
{
    /// <summary>What the lock holder's side costs: everything but the (in-memory) table's records, which DynamoDB would store.</summary>
    public double HolderBytesPerLock => BytesPerLock - TableBytesPerLock;
}

/// <summary>
/// Scenario 5a: N idle locks held by one LockManager on the in-memory table, with the default lease (20 s) and
/// heartbeat (5 s), in per-lock mode and in session mode. Memory is the managed heap after a full collection, before and
/// after acquiring (in session mode: once every lock rests, <see cref="SessionRestAfter"/> after its grant); CPU is this
/// process's CPU time over a window of whole heartbeat periods, less what the same node uses holding nothing (Akka's
/// scheduler and dispatcher threads), divided by the heartbeats the library counted.
/// </summary>
internal static class ScaleScenario
{
    /// <summary>How long a session-held lock is quiet before it rests (the idle timeout; 30 s by default).</summary>
    public static readonly TimeSpan SessionRestAfter = TimeSpan.FromSeconds(1);

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
            rows.Add(await MeasureAsync(count, options.HeartbeatCpuWindow, idle, sessions: false, cancellationToken).ConfigureAwait(false));
        }

        foreach (var count in options.SessionScaleLockCounts)
        {
            rows.Add(await MeasureAsync(count, options.HeartbeatCpuWindow, idle, sessions: true, cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    private static async Task<ScaleRow> MeasureAsync(int count, TimeSpan window, double idlePercent, bool sessions, CancellationToken cancellationToken)
    {
        var tableBytes = await TableBytesPerLockAsync(count, sessions, cancellationToken).ConfigureAwait(false);

        long heartbeats = 0;
        long resting = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DynamoLockDiagnostics.MeterName && instrument.Name is "dynamolock.heartbeats" or "dynamolock.resting_locks")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Interlocked.Add(ref instrument.Name == "dynamolock.heartbeats" ? ref heartbeats : ref resting, value));
        listener.Start();

        var settings = sessions ? new DynamoLockSettings { UseSessions = true, IdleTimeout = SessionRestAfter } : null;
        await using var node = LockNode.Start($"scale-{(sessions ? "sessions-" : "")}{count}", new InMemoryLockTable(), settings);
        _ = await node.Client.GetStatusAsync("warm-up", cancellationToken).ConfigureAwait(false);
        var before = HeapBytes();
        var started = Timing.Now();
        var holder = await BulkHolder.HoldAsync(node.System, node.Manager, "lock-", count, cancellationToken).ConfigureAwait(false);
        var acquireSeconds = Timing.MillisecondsSince(started) / 1000;
        var restSeconds = 0.0;
        if (sessions)
        {
            // Every lock rests once it has been quiet for SessionRestAfter: memory is measured then, or after two
            // minutes with as many as rested (the row says how many).
            var waitFrom = Timing.Now();
            while (Interlocked.Read(ref resting) < count && Timing.MillisecondsSince(waitFrom) < 120_000)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            restSeconds = Timing.MillisecondsSince(started) / 1000 - acquireSeconds;
        }

        var bytesPerLock = (double)(HeapBytes() - before) / count;

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
            counted == 0 ? double.NaN : Math.Max(0, aboveIdle.TotalMicroseconds) / counted,
            sessions,
            restSeconds,
            Interlocked.Read(ref resting));
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
    private static async Task<double> TableBytesPerLockAsync(int count, bool sessions, CancellationToken cancellationToken)
    {
        var before = HeapBytes();
        var table = new InMemoryLockTable();
        var session = sessions ? LockSessions.NewSessionKey("scale") : null;
        for (var i = 0; i < count; i++)
        {
            var request = new AcquireLockRequest(new LockKey($"lock-{i}"), "scale", TimeSpan.FromSeconds(20)) { SessionKey = session };
            await table.TryAcquireAsync(request, cancellationToken).ConfigureAwait(false);
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
