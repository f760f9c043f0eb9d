using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>
/// Runs one key's <see cref="LockCore"/> on this node: turns commands, table answers and its one timer into the core's
/// inputs, and carries out the effects the core asks for (table calls through the thread pool, replies, events,
/// DeathWatch, the next wake-up, state reports, notices to waiting nodes through the manager, logs and metrics). Every decision of the protocol is the core's.
/// </summary>
internal sealed class LockActor : UntypedActor
{
    private readonly ILockTable _table;
    private readonly DynamoLockSettings _settings;
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

    // Taken up from a resting core (it holds a lock already), or handed back to the manager to rest: no stop step then.
    private readonly bool _resumed;
    private bool _rested;

    // Open trace spans, made when the first request comes while someone listens (LockTracing).
    private LockSpans? _spans;

    public LockActor(string key, LockKey lockKey, ILockTable table, DynamoLockSettings settings, LockCoreOptions coreOptions)
    {
        _table = table;
        _settings = settings;
        _core = new LockCore(key, lockKey, coreOptions);
    }

    /// <summary>Takes up a core that rested in the manager (see <see cref="RestOffer"/>).</summary>
    public LockActor(LockCore core, ILockTable table, DynamoLockSettings settings)
    {
        _table = table;
        _settings = settings;
        _core = core;
        _resumed = true;
    }

    private static List<CoreEffect> Effects => _buffer ??= new List<CoreEffect>(16);

    /// <summary>This node's monotonic time, as the core counts it.</summary>
    private TimeSpan Now => Sessions.Now;

    // The manager's sessions and clock, which it puts in the core options it shares with every lock actor.
    private NodeSessions Sessions => (NodeSessions)_core.Options.OwnSessions!;

    protected override void PreStart()
    {
        base.PreStart();
        if (_resumed)
        {
            _core.Resume(Now, Effects);
        }
        else
        {
            _core.Start(Now, Effects);
        }

        Apply();
    }

    protected override void PostStop()
    {
        // Stopped while holding (the manager or the system stopped): the core tells everyone and releases best-effort.
        // A core handed to the manager to rest lives on there.
        if (!_rested)
        {
            _core.Step(StoppedInput.Instance, Now, Effects);
            Apply();
        }

        _spans?.Stopped();

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
            case SessionChangedNotice:
                input = SessionChangedInput.Instance;
                break;
            case LockFreedNotice:
                // Not a command (the manager does not count it as in flight): a hint the core may act on or ignore.
                LockMetrics.NoticesReceived.Add(1, new KeyValuePair<string, object?>("owner", _core.Options.OwnerName));
                input = LockFreedInput.Instance;
                break;
            case RestNow:
                // The manager has nothing in flight to this actor and holds back what comes for the key meanwhile.
                if (_core.CanRest)
                {
                    _rested = true;
                    Context.Parent.Tell(new LockActorRested(_core));
                    Context.Stop(Self);
                }
                else
                {
                    Context.Parent.Tell(new LockActorRestRefused(_core.Key));
                }

                return;
            case Acquire m:
                _received++;
                Spans?.AcquireStarted(Sender, m.TraceParent);
                var options = m.Options ?? AcquireOptions.Default;
                var timing = ReferenceEquals(options, AcquireOptions.Default) && _core.Options.DefaultTiming is { } shared ? shared : _settings.ResolveTiming(options);

                // The manager made the session's slot (and actor) before it forwarded the acquire.
                input = new AcquireInput(Sender, options, timing, timing.UsesSession(options, _settings) ? Sessions.Find(timing.LeaseDuration!.Value) : null);
                break;
            case Release m:
                _received++;
                Spans?.ReleaseStarted(Sender, m.TraceParent);
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
        if (_spans is { } spans)
        {
            if (input is RequesterStoppedInput stopped)
            {
                spans.RequesterStopped(stopped.Who);
            }
            else
            {
                spans.Answered(input);
            }
        }
    }

    private LockSpans? Spans => _spans ??= LockTracing.Enabled ? new LockSpans(_core.Key, _core.Options.OwnerName) : null;

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
                case CallTable m when _spans is { } spans:
                    // The call starts under the span it serves, so that the AWS SDK's own spans nest under it.
                    var previous = Activity.Current;
                    Activity.Current = spans.ParentFor(m.Op, m.Call);
                    CoreInterpreter.Call(_table, m.Op, m.Call, Self, Sessions.Health);
                    Activity.Current = previous;
                    break;
                case CallTable m:
                    CoreInterpreter.Call(_table, m.Op, m.Call, Self, Sessions.Health);
                    break;
                case SendTo m:
                    ((IActorRef)m.To).Tell(m.Message, Self);
                    _spans?.Replied(m.To, m.Message);
                    break;
                case PublishEvent m:
                    if (m.Event is LockLost lost)
                    {
                        _spans?.Lost(lost);
                    }

                    Context.Parent.Tell(new LockEventPublished(m.Event, m.Holder as IActorRef));
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
                    CoreInterpreter.Log(Context, ref _log, m);
                    break;
                case CountMetric m:
                    if (m.Metric == CoreMetric.ContentionWait)
                    {
                        _spans?.WaitStarted();
                    }

                    CoreInterpreter.Count(m, Sessions.Health, _core.Key);
                    break;
                case RestOffer:
                    Context.Parent.Tell(new LockActorRestable(_core.Key, _received));
                    break;
                case SessionNeeded m:
                    Context.Parent.Tell(new SessionNeededNotice(m.Slot.LeaseDuration));
                    break;
                case NotifyWaiters m:
                    // The manager knows the other nodes' managers and sends the notices.
                    Context.Parent.Tell(new NotifyWaitersNotice(_core.Key, m.Addresses));
                    break;
            }
        }

        effects.Clear();
    }

    private void WakeAt(TimeSpan? at) => _wake = WakeTimer.Replace(_wake, at, Now, Context, Wake.Instance);

    /// <summary>The core's wake-up is due.</summary>
    private sealed record Wake
    {
        public static readonly Wake Instance = new();
    }
}
