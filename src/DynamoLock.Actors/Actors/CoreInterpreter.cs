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
    /// <summary>Starts <paramref name="call"/> on <paramref name="table"/>; its outcome reaches <paramref name="self"/> as the core's input. Never blocks.</summary>
    public static void Call(ILockTable table, long op, TableCall call, IActorRef self)
    {
        switch (call)
        {
            case AcquireCall { TakeOverVersion: null } m:
                Run(self, "acquire", op, () => table.TryAcquireAsync(m.Request, CancellationToken.None), result => new AcquireAnswered(op, result));
                break;
            case AcquireCall m:
                Run(self, "acquire", op, () => table.TakeOverAsync(m.Request, m.TakeOverVersion, CancellationToken.None), result => new AcquireAnswered(op, result));
                break;
            case HeartbeatCall m:
                Run(self, "heartbeat", op, () => table.HeartbeatAsync(m.Request, CancellationToken.None), result => new HeartbeatAnswered(op, result));
                break;
            case ReleaseCall m:
                Run(self, "release", op, () => table.ReleaseAsync(m.Request, CancellationToken.None), result => new ReleaseAnswered(op, result));
                break;
            case ReadCall m:
                Run(self, "read", op, () => table.ReadAsync(m.Key, CancellationToken.None), record => new ReadAnswered(op, record));
                break;
        }
    }

    private static void Run<T>(IActorRef self, string operation, long op, Func<Task<T>> call, Func<T, CoreInput> onSuccess)
    {
        var started = Stopwatch.GetTimestamp();
        Task<T> task;
        try
        {
            task = call();
        }
        catch (Exception e)
        {
            self.Tell(new TableFailed(op, e));
            return;
        }

        task.ContinueWith(
            t =>
            {
                LockMetrics.TableLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation));
                self.Tell(t.IsCompletedSuccessfully
                    ? onSuccess(t.Result)
                    : new TableFailed(op, t.Exception?.GetBaseException() ?? new OperationCanceledException($"The {operation} call was cancelled.")));
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
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

    public static void Count(CountMetric metric)
    {
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
