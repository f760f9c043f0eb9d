using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

/// <summary>
/// One key's lock protocol on one node as a pure state machine, in the manner of etcd's raft: an input and the node's
/// monotonic time go in (<see cref="Step"/>), effects come out (table calls, replies, events, the next wake-up). No
/// Akka, no tasks, no I/O, no clock of its own: the same core runs in <c>LockActor</c> and in the deterministic simulator.
/// </summary>
/// <remarks>
/// <para>States: Idle, Acquiring (an acquire or takeover write in flight, or waiting to retry one), Waiting (held
/// elsewhere: the record is observed), Held, Renewing (held, a heartbeat, data write or hand-off in flight), Releasing.
/// Lost and Released are transitions: <see cref="LockLost"/> and <see cref="LockReleased"/> are published as the core
/// leaves Held or Renewing.</para>
/// <para>Safety: the holder trusts its lock until <c>sentAt(last successful write) + lease - safetyMargin</c> on this
/// node's clock. Every step first checks that deadline against <c>now</c>, so a late wake-up or a late answer can never
/// extend a holding; a grant whose write returns after it is no grant. A waiter takes over only a record it has seen
/// unchanged for <c>lease + driftAllowance</c> since it received it.</para>
/// <para>Idempotent writes: each logical write mints its record version number once; a write whose outcome is unknown is
/// retried as it was (same request, same version number, the lease counted from its first send), and nothing else is
/// written for the key until it is settled.</para>
/// </remarks>
internal sealed class LockCore
{
    /// <summary>The op of a call whose answer the core does not wait for (<see cref="AddWaiterCall"/>): no answer ever matches it.</summary>
    public const long NoAnswer = -1;

    private const int MaxReleaseAttempts = 3;
    private static readonly TimeSpan Never = TimeSpan.MaxValue;

    private WaiterQueue _waiters;
    private static readonly List<object> NoReplies = [];

    // Who waits for a release or a data write to be answered; made on first use (an empty list per held lock is 32 bytes).
    private List<object>? _releaseReplies;
    private List<object>? _dataReplies;
    private List<CoreEffect> _out = null!;
    private int _stepStart;
    private TimeSpan _now;

    private long _op;
    private int _attempt;
    // Times on the node's clock; Never for none (a TimeSpan? is twice the size, and there are four per lock).
    private TimeSpan _retryAt = Never;
    private TimeSpan _idleAt = Never;
    private TimeSpan _lastWake = Never;

    // Session-held with nothing to do: when the core offers to rest (Never: not counting; RestOffered: offered).
    private TimeSpan _restAt = Never;
    private static readonly TimeSpan RestOffered = TimeSpan.MinValue;

    // Holding.
    private Grant? _grant;
    private bool _releaseRequested;
    private bool _heartbeatStopped;
    private TimeSpan _revokedAt = Never;
    private byte[]? _pendingData;
    private byte[]? _dataInFlight;
    private int _dataRepliesInFlight;
    private RenewKind _renewKind;
    private bool _countedAsHeld;
    private int _handOffs;
    private TimeSpan _runStartedAt;

    // Waiting.
    private Observation? _observed;

    // Waiting on a session-held lock: its session record as first seen with its version, and what is in flight for it.
    private Observation? _sessionObserved;
    private SessionStep _sessionStep;

    // Acquiring in session mode before the session is live; and the session generation the write in flight names.
    private bool _awaitingSession;
    private long _writeGeneration;

    // A write of this core named a session since the last sweep: it may land after the core moved past it.
    private bool _sweepNeeded;
    private Exception? _lastTableError;
    private string? _takeOverVersion;

    // When this core last registered this node as a waiter on the record (notices), and on which record version;
    // Never: not registered.
    private TimeSpan _registeredAt = Never;
    private string? _registeredOnVersion;
    private bool _yieldToOtherNodes;

    // The requester an acquire or hand-off write in flight is for: its lease and data are in that write.
    private Requester? _writeFor;

    // Writes until their outcome is settled (see the remarks).
    private PendingWrite<AcquireLockRequest>? _acquireWrite;
    private string? _acquireWriteTakeOver;
    private PendingWrite<HeartbeatLockRequest>? _heartbeatWrite;
    private ReleaseLockRequest? _releaseWrite;

    private bool _shuttingDown;
    private object? _shutdownReplyTo;

    // What the manager was told last (fields, not the record: one object fewer per held lock).
    private LockState _reportedState = (LockState)(-1);
    private long? _reportedToken;
    private object? _reportedHolder;
    private int _reportedWaiters;
    private string? _reportedOwner;

    public LockCore(string key, LockKey lockKey, LockCoreOptions options)
    {
        Key = key;
        LockKey = lockKey;
        Options = options;
    }

    private enum RenewKind
    {
        Renew,
        HandOff,
        StoreData,
    }

    private enum SessionStep
    {
        None,
        Reading,
        Expiring,

        // Idle, reading the key once before going (see _sweepNeeded).
        Sweep,
    }

    public string Key { get; }

    public LockKey LockKey { get; }

    public LockCoreOptions Options { get; }

    /// <summary>Where the lock is.</summary>
    public LockState State { get; private set; } = LockState.Idle;

    /// <summary>The fencing token of the current grant, while held.</summary>
    public long? FencingToken => _grant?.FencingToken;


    private LockCoreMutation Mutation => Options.Mutation;

    /// <summary>
    /// A session-held lock with nothing in flight, nobody waiting and nothing due: it needs no timer, so its actor can
    /// go and the core alone be kept (see <see cref="RestOffer"/>). Any input may be stepped into a resting core again.
    /// </summary>
    public bool CanRest =>
        State == LockState.Held && _grant is { Unheld: false, Requester.Session: not null } && _waiters.Count == 0 &&
        !_releaseRequested && !_heartbeatStopped && _revokedAt == Never && _pendingData is null && _retryAt == Never &&
        !_shuttingDown && _sessionStep == SessionStep.None && (_releaseReplies?.Count ?? 0) == 0 && (_dataReplies?.Count ?? 0) == 0;

    /// <summary>Who holds the lock, while held.</summary>
    public object? Holder => _grant is { Unheld: false } grant ? grant.Requester.Ref : null;

    /// <summary>Whether the holding has reached its safe deadline at <paramref name="now"/>: a resting core must be stepped then.</summary>
    public bool DeadlinePassed(TimeSpan now) =>
        Mutation != LockCoreMutation.RestThroughSessionLoss && _grant is { } grant && grant.SafeDeadline(Mutation) is { } deadline && deadline <= now;

    /// <summary>
    /// Takes up a core that rested (its interpreter went away): the interpreter that resumes it watches the holder again
    /// and is asked for the wake-ups still due. Then any input may be stepped as before.
    /// </summary>
    public void Resume(TimeSpan now, List<CoreEffect> effects)
    {
        Begin(now, effects);
        _lastWake = Never;
        _restAt = Never;
        if (Holder is { } holder)
        {
            Emit(new WatchRequester(holder));
        }

        End();
    }

    /// <summary>Starts the idle period of a fresh core (its first wake-up).</summary>
    public void Start(TimeSpan now, List<CoreEffect> effects)
    {
        Begin(now, effects);
        _idleAt = now + Options.IdleTimeout;
        End();
    }

    /// <summary>Feeds one input at <paramref name="now"/> (the node's monotonic clock) and appends the effects, in order, to <paramref name="effects"/>.</summary>
    public void Step(CoreInput input, TimeSpan now, List<CoreEffect> effects)
    {
        Begin(now, effects);
        if (_restAt == RestOffered && input is not WakeInput)
        {
            // Something happened after the offer to rest: the quiet period starts again if it is still at rest.
            _restAt = Never;
        }

        // Whatever the input, a holding past its safe deadline ends first: a late timer or a late answer never extends it.
        CheckSafeDeadline();
        switch (input)
        {
            case AcquireInput m:
                OnAcquire(m);
                break;
            case ReleaseInput m:
                OnRelease(m);
                break;
            case StoreDataInput m:
                OnStoreData(m);
                break;
            case StopHeartbeatInput m:
                OnStopHeartbeat(m);
                break;
            case RequesterStoppedInput m:
                OnRequesterStopped(m.Who);
                break;
            case ReleaseAllInput m:
                OnReleaseAll(m.ReplyTo);
                break;
            case StoppedInput:
                OnStopped();
                break;
            case WakeInput:
                // The interpreter's timer is spent: whatever is still ahead is asked for again below.
                _lastWake = Never;
                OnWake();
                break;
            case AcquireAnswered m when m.Op == _op && State == LockState.Acquiring:
                OnAcquireAnswered(m.Result);
                break;
            case ReadAnswered m when m.Op == _op && State == LockState.Waiting && _sessionStep == SessionStep.Reading:
                OnSessionRead(m.Record);
                break;
            case ReadAnswered m when m.Op == _op && State == LockState.Waiting:
                OnReadAnswered(m.Record);
                break;
            case ReadAnswered m when m.Op == _op && State == LockState.Idle && _sessionStep == SessionStep.Sweep:
                OnSweepRead(m.Record);
                break;
            case ReleaseAnswered m when m.Op == _op && State == LockState.Waiting && _sessionStep == SessionStep.Expiring:
                OnSessionExpiryAnswered(m.Result);
                break;
            case SessionChangedInput:
                OnSessionChanged();
                break;
            case LockFreedInput:
                OnLockFreed();
                break;
            case HeartbeatAnswered m when m.Op == _op && State == LockState.Renewing:
                OnHeartbeatAnswered(m.Result);
                break;
            case ReleaseAnswered m when m.Op == _op && State == LockState.Releasing:
                OnReleaseAnswered(m.Result);
                break;
            case TableFailed m when m.Op == _op:
                OnTableFailed(m.Error);
                break;

            // Answers to calls the core has moved past (a wait that expired, a loss) are dropped.
        }

        End();
    }

    // ---- Step plumbing ----------------------------------------------------------------------------------------------

    private void Begin(TimeSpan now, List<CoreEffect> effects)
    {
        _now = now;
        _out = effects;
        _stepStart = effects.Count;
    }

    /// <summary>Reports a changed state and asks for the one next wake-up: the earliest of everything that is due later.</summary>
    private void End()
    {
        Report();
        TimeSpan? next = null;
        void Consider(TimeSpan? at)
        {
            if (at is { } t && (next is null || t < next))
            {
                next = t;
            }
        }

        Consider(Maybe(_retryAt));
        Consider(State == LockState.Idle && _waiters.Count == 0 ? Maybe(_idleAt) : null);
        Consider(_waiters.EarliestDeadline);
        if (_grant is { } grant && State is LockState.Held or LockState.Renewing)
        {
            // A session-held lock has no timer of its own: its session's core wakes for the session's deadline and
            // tells the lock (SessionChangedInput) when the session is lost.
            Consider(grant.Requester.Session is null ? grant.SafeDeadline(Mutation) : null);
            Consider(State == LockState.Held ? grant.HeartbeatDueAt(_heartbeatStopped) : null);
            Consider(_revokedAt != Never && _releaseRequested && State == LockState.Held ? _revokedAt + grant.Requester.Timing.SafetyMargin : null);
        }

        if (!CanRest)
        {
            _restAt = Never;
        }
        else if (_restAt == Never)
        {
            _restAt = _now + Options.RestAfter;
        }

        Consider(_restAt == RestOffered ? null : Maybe(_restAt));

        if ((next ?? Never) != _lastWake)
        {
            _lastWake = next ?? Never;
            _out.Add(new WakeAt(next));
        }

        _out = null!;
    }

    private static TimeSpan? Maybe(TimeSpan at) => at == Never ? null : at;

    /// <summary>Asks for one table call; its answer is the only one the core takes from now on (answers carry their op).</summary>
    private void Call(TableCall call)
    {
        // Whatever was asked of a session record before, this call's answer is not about it.
        _sessionStep = SessionStep.None;
        Emit(new CallTable(++_op, call));
    }

    private void Emit(CoreEffect effect) => _out.Add(effect);

    private void Send(object to, object message) => _out.Add(new SendTo(to, message));

    private void Log(CoreLogLevel level, string text) => _out.Add(new LogLine(level, text));

    private void Count(CoreMetric metric, LockLossReason? reason = null) => _out.Add(new CountMetric(metric, reason));

    private void Become(LockState state)
    {
        State = state;
        if (state == LockState.Idle)
        {
            _idleAt = _now + Options.IdleTimeout;
            _retryAt = Never;
            if (_shutdownReplyTo is { } replyTo)
            {
                _shutdownReplyTo = null;
                Emit(new AllReleased(replyTo));
            }
        }
    }

    /// <summary>
    /// Reports the state to the manager when it changed as a user sees it. Renewing is reported as Held: a heartbeat is
    /// not a change of state for anyone watching, and two reports per heartbeat were most of the messages at 100k locks.
    /// </summary>
    private void Report()
    {
        var shown = State == LockState.Renewing ? LockState.Held : State;
        var held = _grant is { Unheld: false } grant ? grant : null;
        var token = held?.FencingToken;
        var holder = held?.Requester.Ref;
        var waiters = _waiters.Count;
        var owner = State == LockState.Waiting ? _observed?.Record.OwnerName : null;
        if (shown != _reportedState || token != _reportedToken || !Equals(holder, _reportedHolder) || waiters != _reportedWaiters || owner != _reportedOwner)
        {
            (_reportedState, _reportedToken, _reportedHolder, _reportedWaiters, _reportedOwner) = (shown, token, holder, waiters, owner);
            // First among this step's effects: a requester that hears its reply and then asks the manager for the lock's
            // status must find the state the reply describes, and the manager hears the lock's messages in send order.
            _out.Insert(_stepStart, new ReportState(shown, token, holder, waiters, owner));
        }
    }

    // ---- Wake-ups ---------------------------------------------------------------------------------------------------

    private void OnWake()
    {
        foreach (var expired in _waiters.ExpiredAt(_now))
        {
            OnWaitExpired(expired);
        }

        if (_retryAt <= _now)
        {
            _retryAt = Never;
            switch (State)
            {
                case LockState.Acquiring:
                    StartAcquire();
                    break;
                case LockState.Waiting:
                    StartRead();
                    break;
                case LockState.Releasing:
                    SendRelease(retry: true);
                    break;
            }
        }

        if (State == LockState.Held && _grant is { } grant)
        {
            var revokedUntil = _revokedAt != Never ? _revokedAt + grant.Requester.Timing.SafetyMargin : (TimeSpan?)null;
            if (_releaseRequested && revokedUntil is { } until && until <= _now)
            {
                ProceedFromHeld(heartbeatDue: false);
            }
            else if (grant.HeartbeatDueAt(_heartbeatStopped) is { } due && due <= _now)
            {
                ProceedFromHeld(heartbeatDue: true);
            }
        }

        if (State == LockState.Idle && _waiters.Count == 0 && _idleAt <= _now && _sweepNeeded && Options.OwnSessions is not null)
        {
            // Before this core goes: a write it moved past may have landed under this node's live session, where
            // nothing would ever free it. One read says (a failed read tries again after another idle period).
            _idleAt = _now + Options.IdleTimeout;
            Call(new ReadCall(LockKey));
            _sessionStep = SessionStep.Sweep;
        }
        else if (_restAt != Never && _restAt != RestOffered && _restAt <= _now && CanRest)
        {
            _restAt = RestOffered;
            Emit(RestOffer.Instance);
        }
        else if (State == LockState.Idle && _waiters.Count == 0 && _idleAt <= _now)
        {
            _idleAt = Never;
            Emit(BecameIdle.Instance);
        }
    }

    /// <summary>Ends a holding whose safe deadline has passed, before anything else happens in this step.</summary>
    private void CheckSafeDeadline()
    {
        if (_grant is { } grant && State is LockState.Held or LockState.Renewing && grant.SafeDeadline(Mutation) is { } deadline && deadline <= _now)
        {
            // Held under a session: lost with it, for the session's reason (a waiter expired it: TakenOver).
            var session = grant.Requester.Session?.Current;
            Lose(session is { Generation: var generation, LossReason: { } reason } && generation == grant.SessionGeneration ? reason : LockLossReason.LeaseExpired, null);
        }
    }

    // ---- Commands ---------------------------------------------------------------------------------------------------

    /// <summary>Counts a command: while idle, the idle period starts again.</summary>
    private void CommandReceived()
    {
        if (State == LockState.Idle)
        {
            _idleAt = _now + Options.IdleTimeout;
        }
    }

    private void OnAcquire(AcquireInput m)
    {
        CommandReceived();
        if (_shuttingDown)
        {
            Send(m.From, new LockNotAcquired(Key, LockRefusalKind.ShuttingDown, "The lock manager is shutting down."));
            return;
        }

        if (_grant is { } grant && grant.Requester.Ref.Equals(m.From) && !_releaseRequested && State is LockState.Held or LockState.Renewing)
        {
            Send(m.From, new LockAcquired(Key, grant.FencingToken, grant.Data));
            return;
        }

        if (_waiters.Contains(m.From))
        {
            return;
        }

        var busy = State is not (LockState.Idle or LockState.Acquiring);
        if (busy && m.Options.WaitTimeout == TimeSpan.Zero)
        {
            Send(m.From, NotAcquiredBecauseHeld());
            return;
        }

        TimeSpan? deadline = m.Options.WaitTimeout > TimeSpan.Zero ? _now + m.Options.WaitTimeout : null;
        _waiters.Add(new Requester(m.From, m.Options, m.Timing, deadline, m.Session));
        Emit(new WatchRequester(m.From));
        if (State == LockState.Idle)
        {
            _takeOverVersion = null;
            StartAcquire();
        }
    }

    private void OnRelease(ReleaseInput m)
    {
        CommandReceived();
        if (State == LockState.Releasing && _grant is { } releasing && (releasing.Requester.Ref.Equals(m.From) || m.FencingToken == releasing.FencingToken))
        {
            // Already being released: answered when the write completes.
            (_releaseReplies ??= []).Add(m.From);
            return;
        }

        if (!IsHolder(m.From, m.FencingToken))
        {
            if (_waiters.Remove(m.From) is { } waiter)
            {
                Send(m.From, new LockNotHeld(Key, LockRefusalKind.Cancelled, "The lock was not held yet; the pending acquire was cancelled."));
                AfterWaiterLeft(waiter);
                return;
            }

            Send(m.From, new LockNotHeld(Key, LockRefusalKind.NotHeld, _grant is null ? "The lock is not held on this node." : "The lock is held by another requester."));
            return;
        }

        (_releaseReplies ??= []).Add(m.From);
        RequestRelease(revoke: !_grant!.Requester.Ref.Equals(m.From), byShutdown: false);
    }

    private void OnStoreData(StoreDataInput m)
    {
        CommandReceived();
        if (!IsHolder(m.From, m.FencingToken) || State == LockState.Releasing || _releaseRequested || _heartbeatStopped)
        {
            // After StopHeartbeat a data write would renew the lease it was asked to let run out.
            Send(m.From, new LockNotHeld(Key, LockRefusalKind.NotHeld, _heartbeatStopped ? "The lock's heartbeat was stopped; it is left to expire." : "The lock is not held by the sender."));
            return;
        }

        try
        {
            LockValidation.Data(m.Data);
        }
        catch (ArgumentException e)
        {
            Send(m.From, new LockNotHeld(Key, LockRefusalKind.InvalidRequest, $"Invalid data: {HumanText.Problem(e)}"));
            return;
        }

        _pendingData = m.Data;
        (_dataReplies ??= []).Add(m.From);
        if (State == LockState.Held)
        {
            ProceedFromHeld(heartbeatDue: false);
        }
    }

    private void OnStopHeartbeat(StopHeartbeatInput m)
    {
        CommandReceived();
        if (!IsHolder(m.From, m.FencingToken) || _releaseRequested)
        {
            Send(m.From, new LockNotHeld(Key, LockRefusalKind.NotHeld, "The lock is not held by the sender."));
            return;
        }

        if (_grant!.Requester.Session is not null)
        {
            // A session-held lock is renewed by its session, never on its own: it cannot be left to expire while the
            // node lives. (Turning it into a lock of its own takes a write whose landing the holder cannot time: the
            // record would expire on a lease the holder does not yet count.)
            Send(m.From, new LockNotHeld(Key, LockRefusalKind.InvalidRequest, "The lock is held under a session, which renews it with every other lock of the node; release it instead, or acquire it without a session to let it expire."));
            return;
        }

        // The lock is left to expire: no more writes; the holder hears LockLost(LeaseExpired) at its safe deadline,
        // before a waiter elsewhere can take it over after the lease.
        _heartbeatStopped = true;
        Send(m.From, new LockHeartbeatStopped(Key, _grant.FencingToken));
    }

    private void OnRequesterStopped(object who)
    {
        if (_grant is { Unheld: false } grant && grant.Requester.Ref.Equals(who))
        {
            Log(CoreLogLevel.Info, $"The holder of lock {HumanText.Key(Key)} stopped; releasing the lock.");
            RequestRelease(revoke: false, byShutdown: false);
        }

        if (_waiters.Remove(who) is { } waiter)
        {
            AfterWaiterLeft(waiter);
        }
    }

    private void OnWaitExpired(Requester waiter)
    {
        _waiters.Remove(waiter);
        var refusal = State != LockState.Acquiring
            ? NotAcquiredBecauseHeld()
            : _lastTableError is { } error ? TableRefusal(error)
            : new LockNotAcquired(
                Key,
                LockRefusalKind.WaitTimedOut,
                ReferenceEquals(waiter, _writeFor) ? "the acquire was still waiting for the lock table's answer." : "another requester on this node is acquiring it.");

        // A wait that ran out while the lock was held is contention; one that ran out while the table kept failing says so.
        var kind = refusal.Kind == LockRefusalKind.HeldElsewhere ? LockRefusalKind.WaitTimedOut : refusal.Kind;
        Send(waiter.Ref, refusal with { Kind = kind, Reason = $"Waited {HumanText.Duration(waiter.Options.WaitTimeout)}; {HumanText.Uncapitalised(refusal.Reason)}" });
        AfterWaiterLeft(waiter);
    }

    private void OnReleaseAll(object replyTo)
    {
        CommandReceived();
        _shuttingDown = true;
        FailWaiters(_ => true, new LockNotAcquired(Key, LockRefusalKind.ShuttingDown, "The lock manager is shutting down."));
        if (State == LockState.Idle)
        {
            Emit(new AllReleased(replyTo));
            return;
        }

        _shutdownReplyTo = replyTo;
        if (_grant is { Unheld: false })
        {
            RequestRelease(revoke: true, byShutdown: true);
        }
        else if (State == LockState.Waiting)
        {
            Become(LockState.Idle);
        }
    }

    private void OnStopped()
    {
        if (_grant is { Unheld: false } grant && State is LockState.Held or LockState.Renewing)
        {
            // The holder hears of it first; the release write (whose answer nobody will read) may let others in.
            if (!grant.Revoked)
            {
                Send(grant.Requester.Ref, new LockLost(Key, grant.FencingToken, LockLossReason.Revoked));
            }

            Call(new ReleaseCall(new ReleaseLockRequest(LockKey, Options.OwnerName, grant.RecordVersionNumber)
            {
                DeleteRecord = grant.Requester.Options.DeleteOnRelease,
                NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber(),
            }));
            Unhold();
        }

        foreach (var waiter in _waiters.RemoveWhere(_ => true))
        {
            Send(waiter.Ref, new LockNotAcquired(Key, LockRefusalKind.ShuttingDown, "The lock manager stopped."));
        }

        foreach (var reply in _releaseReplies ?? NoReplies)
        {
            Send(reply, new LockNotHeld(Key, LockRefusalKind.ShuttingDown, "The lock manager stopped before the release completed; the lock expires after its lease."));
        }

        _releaseReplies = null;
        FailPendingData(LockRefusalKind.ShuttingDown, "The lock manager stopped.");
    }

    // ---- Acquiring and waiting --------------------------------------------------------------------------------------

    private void StartAcquire()
    {
        var front = _waiters.First;
        if (_acquireWrite is null && front is null)
        {
            Become(LockState.Idle);
            return;
        }

        if (_acquireWrite is null || Mutation == LockCoreMutation.NewVersionPerRetry)
        {
            var writeFor = _acquireWrite is null ? front! : _writeFor!;
            string? sessionKey = null;
            if (writeFor.Session is { } slot)
            {
                // Session mode: the write names the live session, and no lock may name a session before it exists.
                var session = slot.Current;
                if (!session.IsLive)
                {
                    _awaitingSession = true;
                    Emit(new SessionNeeded(slot));
                    Become(LockState.Acquiring);
                    return;
                }

                sessionKey = session.Key;
                _writeGeneration = session.Generation;
            }

            _writeFor = writeFor;
            _acquireWriteTakeOver = _acquireWrite is null ? _takeOverVersion : _acquireWriteTakeOver;
            _acquireWrite = new PendingWrite<AcquireLockRequest>(
                new AcquireLockRequest(LockKey, Options.OwnerName, writeFor.Timing.LeaseDuration)
                {
                    Data = writeFor.Options.Data,
                    ReplaceData = writeFor.Options.ReplaceData,
                    NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber(),
                    SessionKey = sessionKey,
                    WaiterToRemove = _registeredAt == Never ? null : Options.NoticeAddress,
                },
                _acquireWrite?.FirstSentAt ?? _now);
            _sweepNeeded |= sessionKey is not null;
        }

        _awaitingSession = false;
        Call(new AcquireCall(_acquireWrite.Request, _acquireWriteTakeOver));
        Become(LockState.Acquiring);
    }

    private void OnAcquireAnswered(AcquireResult result)
    {
        var sentAt = _acquireWrite!.FirstSentAt;
        _acquireWrite = null;
        _attempt = 0;
        _lastTableError = null;
        _takeOverVersion = null;
        switch (result)
        {
            case AcquireResult.Granted granted:
                var holder = _waiters.First;
                if (holder is null || !ReferenceEquals(holder, _writeFor))
                {
                    // The requester this write was for left while it was in flight. The record carries that requester's
                    // lease and data, which the next one must not trust: give it back, then serve the queue afresh.
                    GiveBack(granted.Record.RecordVersionNumber, granted.Record.FencingToken);
                    return;
                }

                if (IsLate(holder, sentAt))
                {
                    // The write took longer than the lease can be trusted: no grant. Give the record back and try again.
                    Log(CoreLogLevel.Warning, $"The grant of lock {HumanText.Key(Key)} came back after its safe deadline; giving it back.");
                    GiveBack(granted.Record.RecordVersionNumber, granted.Record.FencingToken);
                    return;
                }

                _waiters.RemoveFirst();
                var record = granted.Record;
                Hold(holder, record.RecordVersionNumber, record.FencingToken, record.Data, Mutation == LockCoreMutation.LeaseFromAnswer ? _now : sentAt);
                FailWaiters(w => w.Options.WaitTimeout == TimeSpan.Zero, new LockNotAcquired(Key, LockRefusalKind.HeldElsewhere, "The lock is held by another requester on this node.", Options.OwnerName));
                return;

            case AcquireResult.Held held:
                Count(CoreMetric.ContentionWait);

                // The observation survives between try-once requests (an Akka lease's retried Acquire()), so a record
                // seen unchanged for a full lease since an earlier attempt is taken over now.
                Observe(held.Holder);
                if (_waiters.Count > 0 && (IsAbandoned(held.Holder) || IsOwnOrphan(held.Holder)))
                {
                    TakeOver(held.Holder);
                    return;
                }

                if (IsSessionHeld(held.Holder))
                {
                    // Held under a session: its session record says whether it is alive; even a try-once requester
                    // gets that look (an expired or abandoned session's lock is taken over now).
                    Become(LockState.Waiting);
                    if (_waiters.First?.Options.WaitTimeout != TimeSpan.Zero)
                    {
                        RegisterAsWaiter(held.Holder);
                    }

                    ReadSession();
                    return;
                }

                FailWaiters(w => w.Options.WaitTimeout == TimeSpan.Zero, HeldBy(held.Holder));
                if (_waiters.Count == 0)
                {
                    Become(LockState.Idle);
                    return;
                }

                Become(LockState.Waiting);
                RegisterAsWaiter(held.Holder);
                ScheduleRefresh();
                return;
        }
    }

    /// <summary>Whether a grant for <paramref name="requester"/> by a write sent at <paramref name="sentAt"/> came back after its safe deadline.</summary>
    private bool IsLate(Requester requester, TimeSpan sentAt)
    {
        if (requester.Session is { } slot)
        {
            // Held under a session, a grant is trusted while the session its write named is (same generation, live,
            // before its safe deadline); the session's heartbeats may have moved that deadline since the write was sent.
            if (Mutation == LockCoreMutation.SessionGrantAfterDeadline)
            {
                _writeGeneration = slot.Current.Generation;
                return false;
            }

            return !slot.Current.Trusts(_writeGeneration, _now);
        }

        return requester.Timing.SafeDuration is { } safe && sentAt + safe <= _now && Mutation != LockCoreMutation.GrantAfterSafeDeadline;
    }

    /// <summary>Releases a record granted to nobody (its requester left, or the grant came too late), then serves the queue.</summary>
    private void GiveBack(string recordVersionNumber, long fencingToken)
    {
        var requester = _writeFor ?? new Requester(this, AcquireOptions.Default, new LockTiming(null, null, TimeSpan.Zero), null);
        _grant = new Grant(requester, recordVersionNumber, fencingToken, ReadOnlyMemory<byte>.Empty, _now, Unheld: true);
        SendRelease();
    }

    private void TakeOver(LockRecord record)
    {
        Log(CoreLogLevel.Info, IsSessionHeld(record)
            ? $"Lock {HumanText.Key(Key)} held by '{record.OwnerName}' under session {HumanText.Key(record.SessionKey)}, which has expired; taking it over."
            : $"Lock {HumanText.Key(Key)} held by '{record.OwnerName}' was not renewed for its lease of {HumanText.Duration(record.LeaseDuration ?? TimeSpan.Zero)}; taking it over.");
        _takeOverVersion = record.RecordVersionNumber;
        StartAcquire();
    }

    private void OnAcquireFailed(Exception error)
    {
        // Once any attempt's outcome was unknown the write stays unsettled until an answer settles it: a later attempt
        // refused before it applied says nothing about the first.
        _acquireWrite = Unsettled(_acquireWrite, error);
        var unsettled = _acquireWrite is not null;

        if (!IsTransient(error))
        {
            LogTableError("Acquiring", error);
            FailWaiters(_ => true, TableRefusal(error));
            Become(LockState.Idle);
            return;
        }

        Log(CoreLogLevel.Warning, $"Acquiring lock {HumanText.Key(Key)} failed transiently ({LockRefusals.KindOf(error)}), retrying: {HumanText.Problem(error)}");
        _lastTableError = error;
        FailWaiters(w => w.Options.WaitTimeout == TimeSpan.Zero, TableRefusal(error));
        if (_waiters.Count == 0 && !unsettled)
        {
            Become(LockState.Idle);
            return;
        }

        // With waiters left, or a write that may hold the record for nobody: retry (the same write, if unsettled).
        _retryAt = _now + Backoff(++_attempt);
    }

    private void StartRead()
    {
        if (_waiters.Count == 0)
        {
            Become(LockState.Idle);
            return;
        }

        Call(new ReadCall(LockKey));
    }

    private void OnReadAnswered(LockRecord? record)
    {
        _attempt = 0;
        if (_waiters.Count == 0)
        {
            Become(LockState.Idle);
        }
        else if (record is null || record.IsReleased)
        {
            _takeOverVersion = null;
            StartAcquire();
        }
        else if (IsOwnOrphan(record))
        {
            Observe(record);
            TakeOver(record);
        }
        else if (_observed is null || _observed.Record.RecordVersionNumber != record.RecordVersionNumber)
        {
            // A changed version number means the holder is alive (or changed): the observation starts again.
            Observe(record);
            ReadSessionOrRefresh(record);
        }
        else if (IsAbandoned(record))
        {
            TakeOver(record);
        }
        else
        {
            ReadSessionOrRefresh(record);
        }
    }

    // ---- Waiting on a session-held lock -----------------------------------------------------------------------------

    /// <summary>
    /// Whether <paramref name="record"/> was left by this very core under one of this node's live sessions: a write it
    /// moved past (a loss, a requester that left) that landed after all. This node's heartbeats would keep it held for
    /// ever, and no holder anywhere trusts it (this core alone writes this key for this node, and it ignores answers to
    /// writes it moved past), so it is taken over at once.
    /// </summary>
    private bool IsOwnOrphan(LockRecord record) =>
        record is { IsReleased: false, SessionKey: { } session }
        && string.Equals(record.OwnerName, Options.OwnerName, StringComparison.Ordinal)
        && Options.OwnSessions?.IsLive(session) == true;

    private bool IsSessionHeld(LockRecord record) =>
        record is { IsReleased: false, SessionKey: not null } && Mutation != LockCoreMutation.TakeOverWithoutExpiringSession;

    private void ReadSessionOrRefresh(LockRecord record)
    {
        RegisterAsWaiter(record);
        if (IsSessionHeld(record))
        {
            ReadSession();
        }
        else
        {
            ScheduleRefresh();
        }
    }

    /// <summary>
    /// Reads the session record of the observed session-held lock, unless another core of this node read it within half
    /// a refresh or saw it expired: that read serves this key too (one read per session, not per waiting key).
    /// </summary>
    private void ReadSession()
    {
        var sessionKey = _observed!.Record.SessionKey!;
        if (Options.SessionWatch?.Latest(sessionKey, _now - (Options.RefreshInterval / 2)) is { } seen)
        {
            OnSessionSeen(seen.Expired ? null : seen.Record, seen.FirstSeen);
            return;
        }

        Call(new ReadCall(new LockKey(sessionKey)));
        _sessionStep = SessionStep.Reading;
    }

    private void OnSessionRead(LockRecord? session) =>
        OnSessionSeen(session, Options.SessionWatch?.Record(_observed!.Record.SessionKey!, session, _now, ignoreVersion: Mutation == LockCoreMutation.SessionWatchIgnoresVersion) ?? _now);

    /// <summary>
    /// The observed lock's session record, first received by this node at <paramref name="firstSeen"/> at its version:
    /// gone or expired, the lock is taken over now; the same version for the session's lease plus the drift allowance
    /// since then, the session is expired first (by one core of the node at a time); else the waiter looks again after a
    /// refresh.
    /// </summary>
    private void OnSessionSeen(LockRecord? session, TimeSpan firstSeen)
    {
        _sessionStep = SessionStep.None;
        _attempt = 0;
        var lockRecord = _observed!.Record;
        if (_waiters.Count == 0)
        {
            Become(LockState.Idle);
        }
        else if (session is null || session.IsReleased)
        {
            TakeOver(lockRecord);
        }
        else if (_sessionObserved is null || _sessionObserved.Record.RecordVersionNumber != session.RecordVersionNumber)
        {
            _sessionObserved = new Observation(session, firstSeen);
            StillHeld(lockRecord);
        }
        else if (session.LeaseDuration is { } lease && _now - Min(_sessionObserved.ReceivedAt, firstSeen) >= Needed(lease))
        {
            if (Options.SessionWatch?.TryClaimExpiry(session.Key.Key, _now, Options.RefreshInterval * 2) == false)
            {
                // Another core of this node is expiring it: this one looks again after a refresh.
                StillHeld(lockRecord);
                return;
            }

            Log(CoreLogLevel.Info, $"Session {HumanText.Key(session.Key.Key)} of '{session.OwnerName}' was not renewed for its lease of {HumanText.Duration(lease)}; expiring it.");
            Call(new ReleaseCall(new ReleaseLockRequest(session.Key, session.OwnerName, session.RecordVersionNumber)
            {
                NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber(),
            }));
            _sessionStep = SessionStep.Expiring;
        }
        else
        {
            StillHeld(lockRecord);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void OnSessionExpiryAnswered(ReleaseResult result)
    {
        _sessionStep = SessionStep.None;
        var lockRecord = _observed!.Record;
        var sessionKey = lockRecord.SessionKey!;
        Options.SessionWatch?.EndExpiry(sessionKey);
        if (result is ReleaseResult.NotHeld { Current: { IsReleased: false } renewed })
        {
            // A heartbeat of the session landed first: it is alive, and watched again from its new version.
            _sessionObserved = new Observation(renewed, Options.SessionWatch?.Record(sessionKey, renewed, _now, ignoreVersion: Mutation == LockCoreMutation.SessionWatchIgnoresVersion) ?? _now);
            StillHeld(lockRecord);
            return;
        }

        // Expired by this write (or by another waiter, or deleted): the lock is free to take over, and so is every other
        // lock this node waits for under the same session.
        Options.SessionWatch?.Record(sessionKey, null, _now);
        TakeOver(lockRecord);
    }

    /// <summary>The observed lock is held and alive: try-once requesters are answered, the others look again after a refresh.</summary>
    private void StillHeld(LockRecord lockRecord)
    {
        FailWaiters(w => w.Options.WaitTimeout == TimeSpan.Zero, HeldBy(lockRecord));
        if (_waiters.Count == 0)
        {
            Become(LockState.Idle);
            return;
        }

        ScheduleRefresh();
    }

    /// <summary>The read before going idle: a record this core left under the node's live session is given back.</summary>
    private void OnSweepRead(LockRecord? record)
    {
        _sessionStep = SessionStep.None;
        _sweepNeeded = false;
        if (record is not null && IsOwnOrphan(record))
        {
            Log(CoreLogLevel.Info, $"Lock {HumanText.Key(Key)} was left under this node's session by a write whose answer came too late; releasing it.");
            GiveBack(record.RecordVersionNumber, record.FencingToken);
        }
    }

    private void OnSessionChanged()
    {
        // A loss of the session a lock is held under was handled by the deadline check at the start of the step.
        if (State != LockState.Acquiring || !_awaitingSession)
        {
            return;
        }

        var front = _waiters.First;
        if (front?.Session?.Current is { IsLive: false, Problem: { } problem })
        {
            _awaitingSession = false;
            FailWaiters(_ => true, TableRefusal(problem));
            Become(LockState.Idle);
            return;
        }

        StartAcquire();
    }

    private void OnReadFailed(Exception error)
    {
        _sessionStep = SessionStep.None;
        if (!IsTransient(error))
        {
            LogTableError("Reading", error);
            FailWaiters(_ => true, TableRefusal(error));
            Become(LockState.Idle);
            return;
        }

        ScheduleRefresh();
    }

    /// <summary>Starts observing <paramref name="record"/> from now (when its read was received), unless the same version is already observed.</summary>
    private void Observe(LockRecord record)
    {
        _observed = _observed?.Record.RecordVersionNumber == record.RecordVersionNumber
            ? _observed with { Record = record }
            : new Observation(record, _now);
        if (_sessionObserved is { } session && session.Record.Key.Key != record.SessionKey)
        {
            _sessionObserved = null;
        }
    }

    /// <summary>Whether <paramref name="record"/> has been seen unchanged for its full lease plus the drift allowance since the first read that returned it.</summary>
    private bool IsAbandoned(LockRecord record)
    {
        if (record.LeaseDuration is not { } lease || _observed is not { } observed || observed.Record.RecordVersionNumber != record.RecordVersionNumber)
        {
            return false;
        }

        if (record.SessionKey is not null)
        {
            // A session-held record's version does not change while it is held: only its session tells. (The mutation
            // treats it as heartbeated on its own, with the waiter's own lease.)
            if (Mutation != LockCoreMutation.TakeOverWithoutExpiringSession || _waiters.First?.Timing.LeaseDuration is not { } own)
            {
                return false;
            }

            lease = own;
        }

        return _now - observed.ReceivedAt >= Needed(lease);
    }

    /// <summary>How long a version must be seen unchanged before its holder is taken for gone: its lease plus the drift allowance.</summary>
    private TimeSpan Needed(TimeSpan lease) => Mutation switch
    {
        LockCoreMutation.IgnoreDriftAllowance => lease,
        LockCoreMutation.TakeOverAfterHalfLease => lease / 2,
        _ => lease + Options.DriftAllowance,
    };

    /// <summary>
    /// Makes this node known to the holder's node (notices): its address is added to the record's waiters unless the
    /// record lists it already, and never for a record this node's owner holds. The answer is not waited for: a
    /// registration lost on the way shows as a missing address at a later read, and is sent again at most once per
    /// refresh interval for one record version. A new version without the address registers at once: a release took
    /// every waiter off, and this node lost the race for the freed lock (without this it would wait for its next poll
    /// while the winners' nodes handed the lock between themselves). Records are seen on polls and refused writes, so
    /// this costs at most one write per refresh or per hand-off.
    /// </summary>
    private void RegisterAsWaiter(LockRecord record)
    {
        if (Options.NoticeAddress is not { } me
            || record.IsReleased
            || string.Equals(record.OwnerName, Options.OwnerName, StringComparison.Ordinal)
            || record.Waiters.Contains(me)
            || (_registeredAt != Never
                && string.Equals(record.RecordVersionNumber, _registeredOnVersion, StringComparison.Ordinal)
                && _now - _registeredAt < Options.RefreshInterval))
        {
            return;
        }

        _registeredAt = _now;
        _registeredOnVersion = record.RecordVersionNumber;
        Emit(new CallTable(NoAnswer, new AddWaiterCall(LockKey, me)));
    }

    /// <summary>
    /// Another node says it freed the lock: a waiting core tries now instead of at its next poll. Only a hint: the
    /// conditional acquire decides, and a notice that comes while anything else is going on is dropped (polling goes on).
    /// </summary>
    private void OnLockFreed()
    {
        if (State != LockState.Waiting || _waiters.Count == 0 || _sessionStep != SessionStep.None)
        {
            return;
        }

        if (Mutation == LockCoreMutation.GrantOnNotice)
        {
            var front = _waiters.First!;
            _waiters.RemoveFirst();
            Hold(front, Options.Entropy.NextRecordVersionNumber(), (_observed?.Record.FencingToken ?? 0) + 1, ReadOnlyMemory<byte>.Empty, _now);
            return;
        }

        _retryAt = Never;
        _takeOverVersion = null;
        StartAcquire();
    }

    private void ScheduleRefresh()
    {
        // Waiters elsewhere read at least once per refresh interval, so a lock left free for a little longer than one
        // interval has been seen free by each of them. Refreshes are jittered downwards only: de-synchronised, and
        // never further apart than the interval a user configured.
        var delay = _yieldToOtherNodes ? Options.FairnessInterval * 1.1 : Options.RefreshInterval * (0.8 + (Options.Entropy.NextDouble() * 0.2));
        _yieldToOtherNodes = false;
        // Read again right when the observed lease (plus drift) has run out, if that comes before the next refresh: the
        // session's, for a session-held lock.
        var watched = _observed is { Record.SessionKey: not null } ? _sessionObserved : _observed;
        if (watched is { Record.LeaseDuration: { } lease })
        {
            var untilAbandoned = watched.ReceivedAt + lease + Options.DriftAllowance - _now;
            if (untilAbandoned < delay)
            {
                delay = untilAbandoned < TimeSpan.Zero ? TimeSpan.Zero : untilAbandoned;
            }
        }

        _retryAt = _now + delay;
    }

    // ---- Holding ----------------------------------------------------------------------------------------------------

    private void Hold(Requester holder, string recordVersionNumber, long fencingToken, ReadOnlyMemory<byte> data, TimeSpan sentAt)
    {
        if (_handOffs == 0)
        {
            _runStartedAt = sentAt;
        }

        _grant = new Grant(holder, recordVersionNumber, fencingToken, data, sentAt) { SessionGeneration = holder.Session is null ? 0 : _writeGeneration };

        // A grant after a wait for another owner is news to an operator; the uncontended ones of a busy node are not.
        var waited = _observed is not null || _sessionObserved is not null;
        _observed = null;
        _sessionObserved = null;
        _registeredAt = Never;
        _registeredOnVersion = null;
        _heartbeatStopped = false;
        _revokedAt = Never;
        if (!_countedAsHeld)
        {
            _countedAsHeld = true;
            Count(CoreMetric.HeldUp);
        }

        Count(CoreMetric.Acquisition);
        Log(waited ? CoreLogLevel.Info : CoreLogLevel.Debug, $"Lock {HumanText.Key(Key)} acquired with fencing token {fencingToken}{(waited ? " after waiting for another owner" : string.Empty)}.");
        Become(LockState.Held);
        Publish(new LockAcquired(Key, fencingToken, data), holder.Ref);
    }

    /// <summary>
    /// Releases the held lock at the next opportunity. When the holder did not ask for it (shutdown, or a release by
    /// fencing token from another actor), the holder is told <see cref="LockLost"/> now, before the release write can let
    /// anyone else take the lock; after a revocation by another actor, the write also waits the safety margin, so that the
    /// revoked holder has as long to stop as it would have before a loss.
    /// </summary>
    private void RequestRelease(bool revoke, bool byShutdown)
    {
        // A holder that already asked to release is not told it was revoked: its own release is under way.
        if (revoke && !_releaseRequested && _grant is { Revoked: false, Unheld: false } grant)
        {
            _grant = grant with { Revoked = true };
            Count(CoreMetric.Loss, LockLossReason.Revoked);
            Publish(new LockLost(Key, grant.FencingToken, LockLossReason.Revoked), grant.Requester.Ref);

            // At shutdown the node's work stops with it, and a wait would outlast the shutdown's release timeout.
            _revokedAt = byShutdown ? Never : _now;
        }

        _releaseRequested = true;
        if (State == LockState.Held)
        {
            ProceedFromHeld(heartbeatDue: false);
        }
    }

    /// <summary>Decides the next write of a held lock: a retry of an unsettled one, a release or hand-off, a data write, or a heartbeat.</summary>
    private void ProceedFromHeld(bool heartbeatDue)
    {
        var grant = _grant!;
        if (_heartbeatWrite is not null && Mutation != LockCoreMutation.NewVersionPerRetry)
        {
            // Nothing else may be written while the last write's outcome is unknown: it is retried first, as it was.
            SendHeartbeat();
        }
        else if (_releaseRequested)
        {
            if (_revokedAt != Never && _now < _revokedAt + grant.Requester.Timing.SafetyMargin)
            {
                // The revoked holder may still be working: keep the lock (renewing it if due) until its margin has passed.
                if (heartbeatDue)
                {
                    StartHeartbeat(RenewKind.Renew, grant.Requester);
                }

                return;
            }

            var next = _waiters.First;
            if (next is not null && !_shuttingDown && KeepsLocalRun() && next.Session?.Current.IsLive != false)
            {
                StartHeartbeat(RenewKind.HandOff, next);
            }
            else
            {
                _yieldToOtherNodes = next is not null;
                SendRelease();
            }
        }
        else if (_pendingData is not null)
        {
            StartHeartbeat(RenewKind.StoreData, grant.Requester);
        }
        else if (heartbeatDue && !_heartbeatStopped)
        {
            StartHeartbeat(RenewKind.Renew, grant.Requester);
        }
    }

    /// <summary>
    /// Whether the lock passes to the next local waiter rather than being released for other nodes. A run of local
    /// hand-offs ends after <see cref="LockCoreOptions.MaxLocalHandOffs"/> of them, but not before two (polling nodes')
    /// refresh intervals have passed since the table granted it: yielding leaves the lock free for a refresh interval (so
    /// that every polling waiter elsewhere reads it once; registered ones are told at once), and a run much shorter than
    /// that gap would leave a hot lock idle most of the time.
    /// </summary>
    private bool KeepsLocalRun() =>
        Options.MaxLocalHandOffs > 0
        && (_handOffs < Options.MaxLocalHandOffs || _now - _runStartedAt < Options.FairnessInterval * 2);

    /// <summary>Sends a heartbeat with <paramref name="writeFor"/>'s lease: the holder's, or the next requester's for a hand-off.</summary>
    private void StartHeartbeat(RenewKind kind, Requester writeFor)
    {
        var grant = _grant!;
        _renewKind = kind;
        _writeFor = writeFor;
        _dataInFlight = kind == RenewKind.HandOff ? null : _pendingData;
        _dataRepliesInFlight = _dataInFlight is null ? 0 : (_dataReplies?.Count ?? 0);

        // A requester that asked to keep stored data (ReplaceData = false) still stores its data on an empty record.
        var handOffData = kind == RenewKind.HandOff && (writeFor.Options.ReplaceData || grant.Data.IsEmpty) ? writeFor.Options.Data : null;
        string? sessionKey = null;
        if (writeFor.Session?.Current is { } session)
        {
            // Held (or handed on) under a session: the write names it, as a data write must to keep the record session-held.
            sessionKey = session.Key;
            _writeGeneration = session.Generation;
        }

        var request = new HeartbeatLockRequest(LockKey, Options.OwnerName, grant.RecordVersionNumber, writeFor.Timing.LeaseDuration)
        {
            Data = _dataInFlight ?? handOffData,
            IssueNewFencingToken = kind == RenewKind.HandOff,
            NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber(),
            SessionKey = sessionKey,

            // The holder knows the data: what it had, or what this write sets. Reading up to 384 KiB back is waste.
            ReturnData = false,
        };
        _heartbeatWrite = new PendingWrite<HeartbeatLockRequest>(request, _now);
        _sweepNeeded |= sessionKey is not null;
        SendHeartbeat();
    }

    private void SendHeartbeat()
    {
        Call(new HeartbeatCall(_heartbeatWrite!.Request));
        Become(LockState.Renewing);
    }

    private void OnHeartbeatAnswered(HeartbeatResult result)
    {
        var request = _heartbeatWrite!.Request;
        var sentAt = Mutation == LockCoreMutation.LeaseFromAnswer ? _now : _heartbeatWrite.FirstSentAt;
        _heartbeatWrite = null;
        if (result is HeartbeatResult.Lost lost)
        {
            Lose(lost.Current is null || lost.Current.IsReleased ? LockLossReason.ReleasedByOther : LockLossReason.TakenOver, lost.Current);
            return;
        }

        var previous = _grant!;
        var written = ((HeartbeatResult.Renewed)result).Record;

        // The holder keeps what it needs (version, token, data), not the record: the data is what this write set, or as before.
        _grant = previous with
        {
            RecordVersionNumber = written.RecordVersionNumber,
            FencingToken = written.FencingToken,
            Data = request.Data is { } data ? data : previous.Data,
            LastWriteSentAt = sentAt,
            RetryAt = null,
        };
        _attempt = 0;
        Count(CoreMetric.Heartbeat);
        if (_renewKind == RenewKind.HandOff)
        {
            HandOff(previous);
            return;
        }

        if (_dataInFlight is not null)
        {
            // Data that arrived while this write was in flight stays pending for the next one.
            foreach (var reply in (_dataReplies ?? NoReplies).Take(_dataRepliesInFlight))
            {
                Send(reply, new LockDataStored(Key, _grant.FencingToken));
            }

            _dataReplies?.RemoveRange(0, _dataRepliesInFlight);
            if (ReferenceEquals(_pendingData, _dataInFlight))
            {
                _pendingData = null;
            }

            _dataInFlight = null;
        }

        Become(LockState.Held);
        ProceedFromHeld(heartbeatDue: false);
    }

    private void HandOff(Grant previous)
    {
        var old = previous.Requester;
        var handedOn = _grant!;
        _releaseRequested = false;
        FailPendingData(LockRefusalKind.NotHeld, "The lock was released.");
        Publish(new LockReleased(Key, previous.FencingToken), ReleaseRecipients(previous));
        _releaseReplies = null;
        Count(CoreMetric.Release);
        _grant = null;
        UnwatchIfGone(old.Ref);

        var next = _waiters.First;
        if (next is null || !ReferenceEquals(next, _writeFor))
        {
            // The requester the hand-off was written for left while it was in flight: its lease and data are in the
            // record, so give it back and serve the queue afresh.
            GiveBack(handedOn.RecordVersionNumber, handedOn.FencingToken);
            return;
        }

        if (IsLate(next, handedOn.LastWriteSentAt))
        {
            // The hand-off came back after the lease it wrote could be trusted: no grant (the requester keeps waiting).
            Log(CoreLogLevel.Warning, $"The hand-off of lock {HumanText.Key(Key)} came back after its safe deadline; giving it back.");
            GiveBack(handedOn.RecordVersionNumber, handedOn.FencingToken);
            return;
        }

        _waiters.RemoveFirst();
        _handOffs++;

        // The new holder's lease counts from when the hand-off write was sent.
        Hold(next, handedOn.RecordVersionNumber, handedOn.FencingToken, handedOn.Data, handedOn.LastWriteSentAt);
    }

    private void OnHeartbeatFailed(Exception error)
    {
        _heartbeatWrite = Unsettled(_heartbeatWrite, error);

        if (!IsTransient(error))
        {
            LogTableError("Heartbeat of", error);
            Lose(LockLossReason.TableError, null);
            return;
        }

        Count(CoreMetric.HeartbeatFailure);
        Log(CoreLogLevel.Warning, $"Heartbeat of lock {HumanText.Key(Key)} failed transiently ({LockRefusals.KindOf(error)}), retrying: {HumanText.Problem(error)}");
        Become(LockState.Held);
        var retry = Backoff(++_attempt);
        if (_grant!.Requester.Timing.HeartbeatInterval is { } heartbeat && retry > heartbeat / 2)
        {
            retry = heartbeat / 2;
        }

        // The safe deadline still counts from the last successful write: if no retry succeeds in time, the lock is given up.
        _grant = _grant with { RetryAt = _now + retry };
    }

    private void Lose(LockLossReason reason, LockRecord? current)
    {
        var grant = _grant!;
        var token = grant.FencingToken;
        _op++;
        _retryAt = Never;
        Log(CoreLogLevel.Warning, $"Lock {HumanText.Key(Key)} (fencing token {token}) lost: {reason}{(current is null ? string.Empty : $", now owned by '{current.OwnerName}'")}.");
        if (!grant.Revoked && !grant.Unheld)
        {
            // A revoked grant was counted (and published) as lost when it was revoked.
            Count(CoreMetric.Loss, reason);
        }

        foreach (var reply in _releaseReplies ?? NoReplies)
        {
            Send(reply, new LockNotHeld(Key, LockRefusalKind.Lost, $"The lock had been lost ({reason}) before it was released."));
        }

        _releaseReplies = null;
        _releaseRequested = false;
        FailPendingData(LockRefusalKind.Lost, $"The lock was lost ({reason}).");
        Unhold();
        if (!grant.Revoked && !grant.Unheld)
        {
            Publish(new LockLost(Key, token, reason), grant.Requester.Ref);
        }

        UnwatchIfGone(grant.Requester.Ref);
        _takeOverVersion = null;
        if (_waiters.Count > 0)
        {
            StartAcquire();
        }
        else
        {
            Become(LockState.Idle);
        }
    }

    // ---- Releasing --------------------------------------------------------------------------------------------------

    private void SendRelease(bool retry = false)
    {
        if (!retry)
        {
            _attempt = 0;
        }

        _handOffs = 0;
        var grant = _grant!;

        // A retry is the same write: a release applied on an earlier attempt is then recognised as ours.
        var request = retry && _releaseWrite is { } same && Mutation != LockCoreMutation.NewVersionPerRetry
            ? same
            : new ReleaseLockRequest(LockKey, Options.OwnerName, grant.RecordVersionNumber)
            {
                DeleteRecord = !grant.Unheld && grant.Requester.Options.DeleteOnRelease,
                NewRecordVersionNumber = Options.Entropy.NextRecordVersionNumber(),
            };
        _releaseWrite = request;
        Call(new ReleaseCall(request));
        Become(LockState.Releasing);
    }

    private void OnReleaseAnswered(ReleaseResult result)
    {
        if (result is ReleaseResult.NotHeld notHeld && _grant is { Unheld: false })
        {
            Lose(notHeld.Current is null || notHeld.Current.IsReleased ? LockLossReason.ReleasedByOther : LockLossReason.TakenOver, notHeld.Current);
            return;
        }

        if (result is ReleaseResult.Released { Waiters.Count: > 0 } released)
        {
            // The release took the set of waiting nodes off the record and returned it: tell them they may try now.
            var others = released.Waiters.Where(w => !string.Equals(w, Options.NoticeAddress, StringComparison.Ordinal)).ToList();
            if (others.Count > 0)
            {
                Emit(new NotifyWaiters(others));
            }
        }

        FinishRelease();
    }

    private void OnReleaseFailed(Exception error)
    {
        // A session-held record never expires while this node's session lives: its release is retried until the table
        // answers, else every waiter elsewhere would wait for the node to stop.
        if (IsTransient(error) && (++_attempt < MaxReleaseAttempts || _grant!.Requester.Session is not null))
        {
            _retryAt = _now + Backoff(_attempt);
            return;
        }

        // The holder has stopped heartbeating, so the record frees itself after its lease; nothing is left held here.
        var lease = _grant!.Requester.Timing.LeaseDuration;
        var expiresIn = lease is { } l ? $"it expires {HumanText.Duration(l)} after its last heartbeat" : "it is fail-closed and stays held until an operator releases it";
        Log(CoreLogLevel.Warning, $"Could not release lock {HumanText.Key(Key)} ({LockRefusals.KindOf(error)}): {HumanText.Problem(error)}; {expiresIn}.");
        FinishRelease(new LockNotHeld(Key, LockRefusals.KindOf(error), $"Could not release the lock: {HumanText.Problem(error)}; {expiresIn}.") { Cause = error });
    }

    /// <summary>Ends a holding by a release: written, or (<paramref name="failed"/>) given up after the table kept failing.</summary>
    private void FinishRelease(LockNotHeld? failed = null)
    {
        _attempt = 0;
        var grant = _grant!;
        var token = grant.FencingToken;
        var recipients = grant.Unheld ? (_releaseReplies ?? NoReplies).ToList() : ReleaseRecipients(grant);
        _releaseRequested = false;
        FailPendingData(LockRefusalKind.NotHeld, "The lock was released.");
        Unhold();
        if (!grant.Unheld && failed is not null)
        {
            // Whoever asked hears that the release failed; subscribers hear that the grant ended without one.
            foreach (var reply in (_releaseReplies ?? NoReplies).Distinct())
            {
                Send(reply, failed);
            }

            Count(CoreMetric.Loss, LockLossReason.TableError);
            Publish(new LockLost(Key, token, LockLossReason.TableError), (object?)null);
            UnwatchIfGone(grant.Requester.Ref);
        }
        else if (!grant.Unheld)
        {
            Count(CoreMetric.Release);
            Log(CoreLogLevel.Debug, $"Lock {HumanText.Key(Key)} (fencing token {token}) released.");
            Publish(new LockReleased(Key, token), recipients);
            UnwatchIfGone(grant.Requester.Ref);
        }

        _releaseReplies = null;
        _takeOverVersion = null;
        if (_waiters.Count == 0)
        {
            _yieldToOtherNodes = false;
            Become(LockState.Idle);
        }
        else if (_yieldToOtherNodes)
        {
            // Released to give other nodes a turn after a run of local hand-offs: look again after a refresh.
            _observed = null;
            Become(LockState.Waiting);
            ScheduleRefresh();
        }
        else
        {
            StartAcquire();
        }
    }

    // ---- Failures ---------------------------------------------------------------------------------------------------

    private void OnTableFailed(Exception error)
    {
        switch (State)
        {
            case LockState.Acquiring:
                OnAcquireFailed(error);
                break;
            case LockState.Waiting:
                OnReadFailed(error);
                break;
            case LockState.Renewing:
                OnHeartbeatFailed(error);
                break;
            case LockState.Releasing:
                OnReleaseFailed(error);
                break;
        }
    }

    private static bool IsOutcomeUnknown(Exception error) => error is LockTableUnavailableException { OutcomeUnknown: true };

    /// <summary>The write to retry as it was after <paramref name="error"/>: kept once any attempt's outcome was unknown, else none.</summary>
    private static PendingWrite<T>? Unsettled<T>(PendingWrite<T>? write, Exception error) =>
        write is not null && (write.OutcomeUnknown || IsOutcomeUnknown(error)) ? write with { OutcomeUnknown = true } : null;

    private static bool IsTransient(Exception error) => CoreRetries.IsTransient(error);

    private TimeSpan Backoff(int attempt) => CoreRetries.Backoff(attempt, Options);

    // ---- Helpers ----------------------------------------------------------------------------------------------------

    /// <summary>Who is told a release directly: whoever asked for it, and the holder unless it was already told it lost the lock.</summary>
    private List<object> ReleaseRecipients(Grant grant)
    {
        var recipients = new List<object>(_releaseReplies ?? NoReplies);
        if (!grant.Revoked)
        {
            recipients.Add(grant.Requester.Ref);
        }

        return recipients;
    }

    private void Unhold()
    {
        _heartbeatWrite = null;
        _releaseWrite = null;
        _grant = null;
        _handOffs = 0;
        _heartbeatStopped = false;
        _revokedAt = Never;
        if (_countedAsHeld)
        {
            _countedAsHeld = false;
            Count(CoreMetric.HeldDown);
        }
    }

    private bool IsHolder(object sender, long? fencingToken) =>
        _grant is { Unheld: false } grant && State is LockState.Held or LockState.Renewing
        && (grant.Requester.Ref.Equals(sender) || fencingToken == grant.FencingToken);

    private LockNotAcquired NotAcquiredBecauseHeld() => State == LockState.Waiting && _observed is { } observed
        ? HeldBy(observed.Record)
        : new LockNotAcquired(Key, LockRefusalKind.HeldElsewhere, "The lock is held by another requester on this node.", Options.OwnerName);

    private LockNotAcquired HeldBy(LockRecord holder) =>
        new(Key, LockRefusalKind.HeldElsewhere, $"The lock is held by '{holder.OwnerName}'.", holder.OwnerName);

    private LockNotAcquired TableRefusal(Exception error) =>
        new(Key, LockRefusals.KindOf(error), $"The lock table {(IsTransient(error) ? "is unavailable" : "failed")}: {HumanText.Problem(error)}") { Cause = error };

    private void LogTableError(string operation, Exception error) =>
        Log(CoreLogLevel.Error, $"{operation} lock {HumanText.Key(Key)} failed ({LockRefusals.KindOf(error)}): {HumanText.Problem(error)}");

    private void AfterWaiterLeft(Requester waiter)
    {
        UnwatchIfGone(waiter.Ref);
        if (_waiters.Count == 0 && (State == LockState.Waiting || (State == LockState.Acquiring && _awaitingSession)))
        {
            _awaitingSession = false;
            Become(LockState.Idle);
        }
    }

    private void FailWaiters(Func<Requester, bool> which, LockNotAcquired refusal)
    {
        foreach (var waiter in _waiters.RemoveWhere(which))
        {
            Send(waiter.Ref, refusal);
            UnwatchIfGone(waiter.Ref);
        }
    }

    private void FailPendingData(LockRefusalKind kind, string reason)
    {
        foreach (var reply in _dataReplies ?? NoReplies)
        {
            Send(reply, new LockNotHeld(Key, kind, reason));
        }

        _dataReplies = null;
        _pendingData = null;
        _dataInFlight = null;
    }

    private void UnwatchIfGone(object who)
    {
        if (_grant?.Requester.Ref.Equals(who) != true && !_waiters.Contains(who) && !ReferenceEquals(who, this))
        {
            Emit(new UnwatchRequester(who));
        }
    }

    private void Publish(ILockEvent lockEvent, object? direct)
    {
        if (direct is not null)
        {
            Send(direct, lockEvent);
        }

        Emit(new PublishEvent(lockEvent, direct));
    }

    private void Publish(ILockEvent lockEvent, List<object> direct)
    {
        foreach (var recipient in direct.Distinct())
        {
            Send(recipient, lockEvent);
        }

        Emit(new PublishEvent(lockEvent));
    }

    /// <summary>A record seen while waiting, and when the read that first returned its version was received.</summary>
    private sealed record Observation(LockRecord Record, TimeSpan ReceivedAt);
}
