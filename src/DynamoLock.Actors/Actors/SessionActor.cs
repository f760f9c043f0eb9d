using Akka.Actor;
using Akka.Event;
using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>
/// Runs one <see cref="SessionCore"/> of a lock manager (session mode: one heartbeat for every lock held under it):
/// its table calls, its one timer, and its changes reported to the manager, which tells the lock actors.
/// </summary>
internal sealed class SessionActor : UntypedActor
{
    private readonly ILockTable _table;
    private readonly NodeSessions _sessions;
    private readonly SessionCore _core;
    private readonly List<CoreEffect> _effects = new(8);
    private ILoggingAdapter? _log;
    private WakeTimer? _wake;

    // How the health check names this session while its heartbeats fail: its record key changes with each generation.
    private readonly string _healthKey;

    public SessionActor(ILockTable table, NodeSessions sessions, SessionSlot slot, LockTiming timing, LockCoreOptions options)
    {
        _table = table;
        _sessions = sessions;
        _core = new SessionCore(slot, timing.HeartbeatInterval!.Value, timing.SafetyMargin, options);
        _healthKey = $"session (lease {HumanText.Duration(slot.LeaseDuration)})";
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case CoreInput input:
                Step(input);
                break;
            case StartSession:
                Step(StartSessionInput.Instance);
                break;
            case Wake:
                Step(WakeInput.Instance);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void PostStop()
    {
        // No more heartbeats: the session is over for this node's locks (they are told), and its record expires. It is not
        // deleted here: a lock of this node may still name it while the manager stops.
        Step(new CloseSessionInput(DeleteRecord: false));
        _wake?.Cancel();
        base.PostStop();
    }

    private void Step(CoreInput input)
    {
        _core.Step(input, _sessions.Now, _effects);
        foreach (var effect in _effects)
        {
            switch (effect)
            {
                case CallTable m:
                    CoreInterpreter.Call(_table, m.Op, m.Call, Self, _sessions.Health);
                    break;
                case WakeAt m:
                    WakeAt(m.At);
                    break;
                case SessionChanged:
                    Context.Parent.Tell(new SessionStateChanged(_core.Slot.LeaseDuration));
                    break;
                case LogLine m:
                    CoreInterpreter.Log(Context, ref _log, m);
                    break;
                case CountMetric m:
                    CoreInterpreter.Count(m, _sessions.Health, _healthKey);
                    break;
            }
        }

        _effects.Clear();
    }

    private void WakeAt(TimeSpan? at) => _wake = WakeTimer.Replace(_wake, at, _sessions.Now, Context, Wake.Instance);

    private sealed record Wake
    {
        public static readonly Wake Instance = new();
    }
}
