using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>
/// Runs one key's <see cref="LockCore"/> on this node: turns commands, table answers and its one timer into the core's
/// inputs, and carries out the effects the core asks for (table calls through the thread pool, replies, events,
/// DeathWatch, the next wake-up, state reports, logs and metrics). Every decision of the protocol is the core's.
/// </summary>
internal sealed class LockActor : UntypedActor
{
    private readonly ILockTable _table;
    private readonly DynamoLockSettings _settings;
    private readonly long _origin;
    private readonly LockCore _core;
    // Made when first needed: most lock actors never log, and a logger per actor was ~100 bytes per held lock.
    private ILoggingAdapter? _log;

    // The effects of one step, carried out before the step returns. An actor runs on one thread at a time and never
    // re-enters a step, so one buffer per thread serves every lock actor: a buffer per actor was ~120 bytes per held lock.
    [ThreadStatic]
    private static List<CoreEffect>? _buffer;

    // The pending wake-up, if any (see WakeTimer for why not IWithTimers).
    private WakeTimer? _wake;

    // Commands received from the manager, so that it can tell whether one is still in flight when this actor is idle.
    private long _received;

    public LockActor(string key, LockKey lockKey, ILockTable table, DynamoLockSettings settings, LockCoreOptions coreOptions)
    {
        _table = table;
        _settings = settings;
        _origin = settings.TimeProvider.GetTimestamp();
        _core = new LockCore(key, lockKey, coreOptions);
    }

    private static List<CoreEffect> Effects => _buffer ??= new List<CoreEffect>(16);

    /// <summary>This node's monotonic time, as the core counts it.</summary>
    private TimeSpan Now => _settings.TimeProvider.GetElapsedTime(_origin);

    protected override void PreStart()
    {
        base.PreStart();
        _core.Start(Now, Effects);
        Apply();
    }

    protected override void PostStop()
    {
        // Stopped while holding (the manager or the system stopped): the core tells everyone and releases best-effort.
        _core.Step(StoppedInput.Instance, Now, Effects);
        Apply();
        _wake?.Cancel();
        base.PostStop();
    }

    protected override void OnReceive(object message)
    {
        CoreInput input;
        switch (message)
        {
            case CoreInput answered:
                input = answered;
                break;
            case Wake:
                input = WakeInput.Instance;
                break;
            case Acquire m:
                _received++;
                var options = m.Options ?? AcquireOptions.Default;
                input = new AcquireInput(Sender, options, _settings.ResolveTiming(options));
                break;
            case Release m:
                _received++;
                input = new ReleaseInput(Sender, m.FencingToken);
                break;
            case StoreLockData m:
                _received++;
                input = new StoreDataInput(Sender, m.FencingToken, m.Data);
                break;
            case StopHeartbeat m:
                _received++;
                input = new StopHeartbeatInput(Sender, m.FencingToken);
                break;
            case ReleaseAllLocks:
                _received++;
                input = new ReleaseAllInput(Sender);
                break;
            case Terminated m:
                input = new RequesterStoppedInput(m.ActorRef);
                break;
            default:
                Unhandled(message);
                return;
        }

        _core.Step(input, Now, Effects);
        Apply();
    }

    /// <summary>Carries out the core's effects, in order.</summary>
    private void Apply()
    {
        // Taken out of the buffer first: a Tell to a local actor never runs that actor's step on this thread, but the
        // buffer must be empty again whatever an effect does.
        var effects = Effects;
        var count = effects.Count;
        for (var i = 0; i < count; i++)
        {
            var effect = effects[i];
            switch (effect)
            {
                case CallTable m:
                    Call(m.Op, m.Call);
                    break;
                case SendTo m:
                    ((IActorRef)m.To).Tell(m.Message, Self);
                    break;
                case PublishEvent m:
                    Context.Parent.Tell(new LockEventPublished(m.Event));
                    Context.System.EventStream.Publish(m.Event);
                    break;
                case WatchRequester m:
                    Context.Watch((IActorRef)m.Who);
                    break;
                case UnwatchRequester m:
                    Context.Unwatch((IActorRef)m.Who);
                    break;
                case WakeAt m:
                    WakeAt(m.At);
                    break;
                case ReportState m:
                    Context.Parent.Tell(new LockStateChanged(new LockInfo(_core.Key, m.State, m.FencingToken, (IActorRef?)m.Holder, m.Waiters, m.CurrentOwner)));
                    break;
                case BecameIdle:
                    Context.Parent.Tell(new LockActorIdle(_core.Key, _received));
                    break;
                case AllReleased m:
                    ((IActorRef)m.ReplyTo).Tell(new AllLocksReleased(_core.Key));
                    break;
                case LogLine m:
                    Log(m);
                    break;
                case CountMetric m:
                    Count(m);
                    break;
            }
        }

        effects.Clear();
    }

    /// <summary>Replaces the pending wake-up with one at <paramref name="at"/>, or none.</summary>
    private void WakeAt(TimeSpan? at)
    {
        _wake?.Cancel();
        _wake = null;
        if (at is { } due)
        {
            var delay = due - Now;
            _wake = new WakeTimer();

            // AK1004 prefers IWithTimers; this timer is cancelled here and in PostStop, which is what the rule asks for.
#pragma warning disable AK1004
            Context.System.Scheduler.ScheduleTellOnce(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Self, Wake.Instance, Self, _wake);
#pragma warning restore AK1004
        }
    }

    private void Call(long op, TableCall call)
    {
        switch (call)
        {
            case AcquireCall { TakeOverVersion: null } m:
                Run("acquire", op, () => _table.TryAcquireAsync(m.Request, CancellationToken.None), result => new AcquireAnswered(op, result));
                break;
            case AcquireCall m:
                Run("acquire", op, () => _table.TakeOverAsync(m.Request, m.TakeOverVersion, CancellationToken.None), result => new AcquireAnswered(op, result));
                break;
            case HeartbeatCall m:
                Run("heartbeat", op, () => _table.HeartbeatAsync(m.Request, CancellationToken.None), result => new HeartbeatAnswered(op, result));
                break;
            case ReleaseCall m:
                Run("release", op, () => _table.ReleaseAsync(m.Request, CancellationToken.None), result => new ReleaseAnswered(op, result));
                break;
            case ReadCall m:
                Run("read", op, () => _table.ReadAsync(m.Key, CancellationToken.None), record => new ReadAnswered(op, record));
                break;
        }
    }

    /// <summary>Starts a table call and sends its outcome to this actor as a message; never blocks.</summary>
    private void Run<T>(string operation, long op, Func<Task<T>> call, Func<T, CoreInput> onSuccess)
    {
        var self = Self;
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

    private void Log(LogLine line)
    {
        if (line.Level == CoreLogLevel.Debug && !Context.System.Log.IsDebugEnabled)
        {
            return;
        }

        var log = _log ??= Context.GetLogger();
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

    private static void Count(CountMetric metric)
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

    /// <summary>The core's wake-up is due.</summary>
    private sealed record Wake
    {
        public static readonly Wake Instance = new();
    }
}
