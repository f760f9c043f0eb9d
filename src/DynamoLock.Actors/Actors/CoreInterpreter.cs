using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>
/// What the lock actors and session actors do alike with their cores' effects: table calls through the thread pool whose
/// outcomes come back as messages, log lines through Akka's logging, and metrics.
/// </summary>
internal static class CoreInterpreter
{
    /// <summary>
    /// Starts <paramref name="call"/> on <paramref name="table"/>; its outcome reaches <paramref name="self"/> as the core's
    /// input, and <paramref name="health"/> hears whether the table answered. Never blocks. A call sent with
    /// <see cref="LockCore.NoAnswer"/> as its op (<see cref="AddWaiterCall"/>) reports nothing back: the core waits for
    /// no answer to it.
    /// </summary>
    public static void Call(ILockTable table, long op, TableCall call, IActorRef self, NodeHealth? health)
    {
        switch (call)
        {
            case AcquireCall { TakeOverVersion: null } m:
                Run(self, health, "acquire", op, () => table.TryAcquireAsync(m.Request, CancellationToken.None), result => new AcquireAnswered(op, result));
                break;
            case AcquireCall m:
                Run(self, health, "acquire", op, () => table.TakeOverAsync(m.Request, m.TakeOverVersion, CancellationToken.None), result => new AcquireAnswered(op, result));
                break;
            case HeartbeatCall m:
                Run(self, health, "heartbeat", op, () => table.HeartbeatAsync(m.Request, CancellationToken.None), result => new HeartbeatAnswered(op, result));
                break;
            case ReleaseCall m:
                Run(self, health, "release", op, () => table.ReleaseAsync(m.Request, CancellationToken.None), result => new ReleaseAnswered(op, result));
                break;
            case ReadCall m:
                Run(self, health, "read", op, () => table.ReadAsync(m.Key, CancellationToken.None), record => new ReadAnswered(op, record));
                break;
            case AddWaiterCall m:
                // Registered or not kept changes nothing (the core registers again when a read shows the address missing). A
                // record found free (the release landed first, so nobody will tell this node) is reported as a notice would
                // be: a hint the core acts on only while it still waits.
                Run(self, health, "add-waiter", op, () => table.AddWaiterAsync(m.Key, m.Waiter, CancellationToken.None), static r => r == WaiterRegistration.LockFree ? LockFreedInput.Instance : null);
                break;
        }
    }

    private static void Run<T>(IActorRef self, NodeHealth? health, string operation, long op, Func<Task<T>> call, Func<T, CoreInput?> onSuccess)
    {
        var started = Stopwatch.GetTimestamp();
        Task<T> task;
        try
        {
            task = call();
        }
        catch (Exception e)
        {
            health?.Failed(operation, e);
            Report(self, op, new TableFailed(op, e));
            return;
        }

        task.ContinueWith(
            t =>
            {
                LockMetrics.TableLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation));
                if (t.IsCompletedSuccessfully)
                {
                    health?.Answered();
                    Report(self, op, onSuccess(t.Result));
                    return;
                }

                var error = t.Exception?.GetBaseException() ?? new OperationCanceledException($"The {operation} call was cancelled.");
                health?.Failed(operation, error);
                Report(self, op, new TableFailed(op, error));
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    // A call the core waits for no answer to reports nothing, not even a failure: an answer no op matches would only
    // cost the actor a step (and a resting lock a wake-up) for nothing. The exception is a registration that found the
    // lock free: it comes back as the hint a notice would have been.
    private static void Report(IActorRef self, long op, CoreInput? outcome)
    {
        if (outcome is LockFreedInput || (op != LockCore.NoAnswer && outcome is not null))
        {
            self.Tell(outcome);
        }
    }

    /// <summary>Logs a core's line; the logger is made on first use (most lock actors never log).</summary>
    public static void Log(IActorContext context, ref ILoggingAdapter? log, LogLine line)
    {
        if (line.Level == CoreLogLevel.Debug && !context.System.Log.IsDebugEnabled)
        {
            return;
        }

        log ??= context.GetLogger();
        switch (line.Level)
        {
            case CoreLogLevel.Debug:
                log.Debug(line.Text);
                break;
            case CoreLogLevel.Info:
                log.Info(line.Text);
                break;
            case CoreLogLevel.Warning:
                log.Warning(line.Text);
                break;
            default:
                log.Error(line.Text);
                break;
        }
    }

    /// <summary>Counts a core's metric, and tells <paramref name="health"/> when the heartbeats of <paramref name="key"/> fail or stop failing.</summary>
    public static void Count(CountMetric metric, NodeHealth health, string key)
    {
        switch (metric.Metric)
        {
            case CoreMetric.HeartbeatFailure:
                health.HeartbeatFailed(key);
                break;
            case CoreMetric.Heartbeat or CoreMetric.Loss or CoreMetric.HeldDown or CoreMetric.Release:
                health.HeartbeatsOver(key);
                break;
        }

        switch (metric.Metric)
        {
            case CoreMetric.Acquisition:
                LockMetrics.Acquisitions.Add(1);
                break;
            case CoreMetric.ContentionWait:
                LockMetrics.ContentionWaits.Add(1);
                break;
            case CoreMetric.Heartbeat:
                LockMetrics.Heartbeats.Add(1);
                break;
            case CoreMetric.HeartbeatFailure:
                LockMetrics.HeartbeatFailures.Add(1);
                break;
            case CoreMetric.Loss:
                LockMetrics.Losses.Add(1, new KeyValuePair<string, object?>("reason", metric.Reason?.ToString()));
                break;
            case CoreMetric.Release:
                LockMetrics.Releases.Add(1);
                break;
            case CoreMetric.HeldUp:
                LockMetrics.HeldLocks.Add(1);
                break;
            case CoreMetric.HeldDown:
                LockMetrics.HeldLocks.Add(-1);
                break;
        }
    }
}
