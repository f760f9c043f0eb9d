using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

/// <summary>
/// One session of a node (see <c>docs/sessions.md</c>) as a pure state machine, like <see cref="LockCore"/>: it creates
/// the session record, heartbeats it once per interval for every lock held under it, and publishes the session's
/// state (<see cref="SessionChanged"/>, and <see cref="Slot"/> for the lock cores) whenever it changes.
/// </summary>
/// <remarks>
/// <para>Safety: the session, and every lock held under it, is trusted until <c>sentAt(last successful write) + lease -
/// safetyMargin</c> on this node's clock. Every step checks that deadline first; when it passes, or a heartbeat finds
/// the record expired by a waiter, the session is lost for good and a new one (a new record, the next generation) is
/// created. An expired session is never renewed: heartbeats are conditioned on the version this core last wrote.</para>
/// <para>Writes are idempotent as the lock core's are: a write's record version number is minted once and its retries
/// reuse it, and a session's lease counts from its write's first send.</para>
/// </remarks>
internal sealed class SessionCore
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;

    private readonly LockTiming _timing;
    private List<CoreEffect> _out = null!;
    private TimeSpan _now;
    private long _op;
    private int _attempt;
    private TimeSpan _retryAt = Never;
    private TimeSpan _lastWake = Never;

    private LockKey? _key;
    private string? _version;
    private TimeSpan _lastSentAt;
    private PendingWrite<AcquireLockRequest>? _create;
    private PendingWrite<HeartbeatLockRequest>? _heartbeat;
    private bool _closeAfterHeartbeat;
    private bool _reviving;
    private bool _deleteOnClose;

    /// <summary>A session core for <paramref name="slot"/>'s lease, heartbeated every <paramref name="heartbeatInterval"/>.</summary>
    public SessionCore(SessionSlot slot, TimeSpan heartbeatInterval, TimeSpan safetyMargin, LockCoreOptions options)
    {
        Slot = slot;
        Options = options;
        _timing = new LockTiming(slot.LeaseDuration, heartbeatInterval, safetyMargin);
    }

    /// <summary>Where the session is.</summary>
    public enum SessionPhase
    {
        /// <summary>No session: not started, or the last attempt to create one failed for good.</summary>
        Idle,

        /// <summary>The session record's creating write is in flight (or waits to be retried).</summary>
        Creating,

        /// <summary>The session is live and no write is in flight.</summary>
        Live,

        /// <summary>The session is live and a heartbeat is in flight (or waits to be retried).</summary>
        Renewing,

        /// <summary>The session record is being deleted.</summary>
        Closing,

        /// <summary>Closed: nothing more happens.</summary>
        Closed,
    }

    /// <summary>The session as the lock cores see it.</summary>
    public SessionSlot Slot { get; }

    public LockCoreOptions Options { get; }

    public SessionPhase Phase { get; private set; } = SessionPhase.Idle;

    /// <summary>The session record's key, once one was created.</summary>
    public string? Key => _key?.Key;

    private SessionState State => Slot.Current;

    /// <summary>Feeds one input at <paramref name="now"/> and appends the effects, in order, to <paramref name="effects"/>.</summary>
    public void Step(CoreInput input, TimeSpan now, List<CoreEffect> effects)
    {
        _out = effects;
        _now = now;
        CheckSafeDeadline();
        switch (input)
        {
            case StartSessionInput:
                if (Phase == SessionPhase.Idle)
                {
                    Create();
                }

                break;
            case CloseSessionInput m:
                Close(m.DeleteRecord);
                break;
            case WakeInput:
                // The interpreter's timer is spent, even if it fired before what it was asked for was due (a coarse
                // scheduler, or a node clock running slow against real time): whatever is still ahead is asked for again.
                _lastWake = Never;
                OnWake();
                break;
            case AcquireAnswered m when m.Op == _op && Phase == SessionPhase.Creating:
                OnCreated(m.Result);
                break;
            case HeartbeatAnswered m when m.Op == _op && Phase == SessionPhase.Renewing:
                OnRenewed(m.Result);
                break;
            case ReleaseAnswered m when m.Op == _op && Phase == SessionPhase.Closing:
                Phase = SessionPhase.Closed;
                break;
            case TableFailed m when m.Op == _op:
                OnFailed(m.Error);
                break;
        }

        End();
    }

    private void End()
    {
        TimeSpan? next = null;
        void Consider(TimeSpan at)
        {
            if (at != Never && (next is null || at < next))
            {
                next = at;
            }
        }

        Consider(_retryAt);
        if (Phase is SessionPhase.Live or SessionPhase.Renewing)
        {
            Consider(State.SafeDeadline);
            if (Phase == SessionPhase.Live)
            {
                Consider(_lastSentAt + _timing.HeartbeatInterval!.Value);
            }
        }

        if ((next ?? Never) != _lastWake)
        {
            _lastWake = next ?? Never;
            _out.Add(new WakeAt(next));
        }

        _out = null!;
    }

    private void OnWake()
    {
        if (_retryAt <= _now)
        {
            _retryAt = Never;
            switch (Phase)
            {
                case SessionPhase.Creating:
                    SendCreate();
                    break;
                case SessionPhase.Renewing:
                    SendHeartbeat();
                    break;
            }
        }

        if (Phase == SessionPhase.Live && _lastSentAt + _timing.HeartbeatInterval!.Value <= _now)
        {
            _heartbeat = new PendingWrite<HeartbeatLockRequest>(
                new HeartbeatLockRequest(_key!, Options.OwnerName, _version!, Slot.LeaseDuration)
                {
                    ReturnData = false,
                    NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber(),
                },
                _now);
            SendHeartbeat();
        }
    }

    // ---- Creating ---------------------------------------------------------------------------------------------------

    private void Create()
    {
        _reviving = false;
        _key = new LockKey(LockSessions.KeyPrefix + Options.OwnerName + "/" + Options.Entropy.NextRecordVersionNumber());
        _version = null;
        _heartbeat = null;
        _attempt = 0;
        _create = new PendingWrite<AcquireLockRequest>(
            new AcquireLockRequest(_key, Options.OwnerName, Slot.LeaseDuration) { NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber() },
            _now);
        Phase = SessionPhase.Creating;
        SendCreate();
    }

    private void SendCreate() => Emit(new CallTable(++_op, new AcquireCall(_create!.Request, _reviving ? _version : null)));

    private void OnCreated(AcquireResult result)
    {
        var sentAt = _create!.FirstSentAt;
        _create = null;
        _attempt = 0;
        if (result is not AcquireResult.Granted granted)
        {
            // A fresh random key held by someone else: try another.
            Log(CoreLogLevel.Warning, $"Session key {HumanText.Key(_key!.Key)} was taken; creating another.");
            Create();
            return;
        }

        var deadline = sentAt + _timing.SafeDuration!.Value;
        if (deadline <= _now)
        {
            // Created too late to be trusted at all: leave that record to expire (nothing names it) and create another.
            Log(CoreLogLevel.Warning, $"Session {HumanText.Key(_key!.Key)} was created after its safe deadline; creating another.");
            Create();
            return;
        }

        _version = granted.Record.RecordVersionNumber;
        _lastSentAt = sentAt;
        Phase = SessionPhase.Live;
        if (_reviving)
        {
            _reviving = false;
            Publish(State with { IsLive = true, SafeDeadline = deadline });
            return;
        }

        Publish(new SessionState(_key!.Key, State.Generation + 1, true, deadline));
        Log(CoreLogLevel.Info, $"Session {HumanText.Key(_key.Key)} started (lease {HumanText.Duration(Slot.LeaseDuration)}).");
    }

    // ---- Renewing ---------------------------------------------------------------------------------------------------

    private void SendHeartbeat()
    {
        Phase = SessionPhase.Renewing;
        Emit(new CallTable(++_op, new HeartbeatCall(_heartbeat!.Request)));
    }

    private void OnRenewed(HeartbeatResult result)
    {
        var sentAt = _heartbeat!.FirstSentAt;
        var request = _heartbeat.Request;
        _heartbeat = null;
        _attempt = 0;
        if (result is HeartbeatResult.Lost)
        {
            // A waiter expired the session (it saw no heartbeat for a full lease): every lock under it is gone.
            Lose(LockLossReason.TakenOver);
            return;
        }

        _version = request.NewRecordVersionNumber;
        _lastSentAt = sentAt;
        Count(CoreMetric.Heartbeat);
        // A renewal only moves the deadline, which every core reads from the slot when it steps: nobody needs telling
        // (telling every lock actor at every heartbeat was a million messages per interval at a million locks).
        Slot.Set(State with { SafeDeadline = sentAt + _timing.SafeDuration!.Value });
        Phase = SessionPhase.Live;
        if (_closeAfterHeartbeat)
        {
            Close(_deleteOnClose);
        }
    }

    // ---- Failures, loss and closing -----------------------------------------------------------------------------------

    private void OnFailed(Exception error)
    {
        var transient = CoreRetries.IsTransient(error);
        switch (Phase)
        {
            case SessionPhase.Creating when transient:
                // Retried as the same write: a creation applied but unanswered is recognised as ours.
                _retryAt = _now + Backoff(++_attempt);
                break;
            case SessionPhase.Creating:
                Log(CoreLogLevel.Error, $"No session could be created ({LockRefusals.KindOf(error)}): {HumanText.Problem(error)}");
                Phase = SessionPhase.Idle;
                Publish(State with { IsLive = false, Problem = error });
                break;
            case SessionPhase.Renewing when transient:
                Count(CoreMetric.HeartbeatFailure);
                Log(CoreLogLevel.Warning, $"Heartbeat of session {HumanText.Key(_key!.Key)} failed transiently ({LockRefusals.KindOf(error)}), retrying: {HumanText.Problem(error)}");
                var retry = Backoff(++_attempt);
                _retryAt = _now + (retry < _timing.HeartbeatInterval!.Value / 2 ? retry : _timing.HeartbeatInterval.Value / 2);
                break;
            case SessionPhase.Renewing:
                Log(CoreLogLevel.Error, $"Heartbeat of session {HumanText.Key(_key!.Key)} failed ({LockRefusals.KindOf(error)}): {HumanText.Problem(error)}");
                Lose(LockLossReason.TableError);
                break;
            case SessionPhase.Closing:
                // Best-effort: a session left behind expires, and nothing names it.
                Phase = SessionPhase.Closed;
                break;
        }
    }

    private void CheckSafeDeadline()
    {
        if (Phase is SessionPhase.Live or SessionPhase.Renewing && State.SafeDeadline <= _now)
        {
            Lose(LockLossReason.LeaseExpired);
        }
    }

    /// <summary>Ends the session for good (its locks are lost with it) and creates the next one.</summary>
    private void Lose(LockLossReason reason)
    {
        if (Options.Mutation == LockCoreMutation.RenewExpiredSession && _version is not null)
        {
            // The bug this mutation stands for: the session is taken back (even from a waiter that expired it) and its
            // locks are never told.
            _reviving = true;
            _heartbeat = null;
            _create = new PendingWrite<AcquireLockRequest>(
                new AcquireLockRequest(_key!, Options.OwnerName, Slot.LeaseDuration) { NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber() },
                _now);
            Phase = SessionPhase.Creating;
            SendCreate();
            return;
        }

        Log(CoreLogLevel.Warning, $"Session {HumanText.Key(_key!.Key)} lost: {reason}; every lock held under it is lost.");
        Count(CoreMetric.Loss, reason);
        _retryAt = Never;
        Publish(State with { IsLive = false, LossReason = reason });
        Create();
    }

    private void Close(bool deleteRecord)
    {
        switch (Phase)
        {
            case SessionPhase.Renewing:
                // The version is in flight: delete once it is known.
                _closeAfterHeartbeat = true;
                _deleteOnClose = deleteRecord;
                return;
            case SessionPhase.Live when deleteRecord:
                Phase = SessionPhase.Closing;
                Emit(new CallTable(++_op, new ReleaseCall(new ReleaseLockRequest(_key!, Options.OwnerName, _version!) { DeleteRecord = true })));
                break;
            default:
                Phase = SessionPhase.Closed;
                break;
        }

        _retryAt = Never;
        Publish(State with { IsLive = false });
    }

    private void Publish(SessionState state)
    {
        Slot.Set(state);
        Emit(new SessionChanged(state));
    }

    private TimeSpan Backoff(int attempt) => CoreRetries.Backoff(attempt, Options);

    private void Emit(CoreEffect effect) => _out.Add(effect);

    private void Log(CoreLogLevel level, string text) => Emit(new LogLine(level, text));

    private void Count(CoreMetric metric, LockLossReason? reason = null) => Emit(new CountMetric(metric, reason));
}
