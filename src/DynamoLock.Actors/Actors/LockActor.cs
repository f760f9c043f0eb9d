using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>
/// Owns one key's lock on this node: its state machine (Idle, Acquiring, Waiting, Held, Renewing, Releasing), its
/// heartbeats and safe deadline, and the FIFO queue of local requesters. Every table call is async and its result comes
/// back as a message tagged with an operation number, so the actor never blocks and ignores results it moved past.
/// </summary>
/// <remarks>
/// Safety: the holder trusts its lock until <c>sentAt(last successful write) + lease - safetyMargin</c> on its own
/// monotonic clock, and reports <see cref="LockLost"/> when that passes; a waiter elsewhere needs to observe the same
/// record version for <c>lease + driftAllowance</c> from the moment it received its read before it can take over.
/// </remarks>
internal sealed class LockActor : UntypedActor, IWithTimers
{
    // One timer while held: the next heartbeat or the safe deadline, whichever is due first (the deadline alone while
    // a write is in flight). One live timer per held lock rather than two: each costs ~400 bytes in Akka's scheduler.
    private const string HolderTimer = "holder";
    private const string RetryTimer = "retry";
    private const string IdleTimer = "idle";
    private const int MaxReleaseAttempts = 3;

    private readonly string _key;
    private readonly LockKey _lockKey;
    private readonly ILockTable _table;
    private readonly DynamoLockSettings _settings;
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LinkedList<Requester> _waiters = new();
    private readonly List<IActorRef> _releaseReplies = [];
    private readonly List<IActorRef> _dataReplies = [];

    private LockState _state = LockState.Idle;
    private long _op;
    private long _grant;
    private long _received;
    private long _nextRequesterId;
    private int _handOffs;

    // When the table granted the lock that local hand-offs have since passed along (the start of this node's run).
    private long _runStartedAt;
    private int _attempt;

    // While held: the holder, our record, and when the last successful write was sent.
    private Requester? _holder;
    private LockRecord? _record;
    private long _lastWriteSentAt;
    private bool _countedAsHeld;

    // What the holder asked for while a write was in flight.
    private bool _releaseRequested;
    private byte[]? _pendingData;
    private byte[]? _dataInFlight;
    private int _dataRepliesInFlight;
    private RenewKind _renewKind;

    // While waiting: the record observed and when its read was received.
    private LockRecord? _observed;
    private Exception? _lastTableError;
    private long _observedAt;
    private string? _takeOverVersion;
    private bool _yieldToOtherNodes;

    // The requester an acquire or hand-off write in flight is for: its lease and data are in that write.
    private Requester? _writeFor;

    // Whether the holder was already told LockLost(Revoked) because its lock is being released without its asking.
    private bool _holderRevoked;

    private bool _shuttingDown;

    // The write last sent for each kind, until its outcome is settled. A write that failed with an unknown outcome (applied
    // or not, its answer and the settling read both lost) is retried as it is: the same request with the same record
    // version number, so that a retry finding the first attempt applied knows it for its own, and the lease counts from
    // the first attempt's send time. A new version number per retry would mistake our own record for someone else's.
    private PendingWrite<AcquireLockRequest>? _acquireWrite;
    private string? _acquireWriteTakeOver;
    private PendingWrite<HeartbeatLockRequest>? _heartbeatWrite;
    private ReleaseLockRequest? _releaseWrite;

    // The state last reported to the manager.
    private LockInfo? _reported;
    private IActorRef? _shutdownReplyTo;

    public LockActor(string key, LockKey lockKey, ILockTable table, DynamoLockSettings settings)
    {
        _key = key;
        _lockKey = lockKey;
        _table = table;
        _settings = settings;
        _clock = settings.TimeProvider;
        Become(LockState.Idle);
    }

    private enum RenewKind
    {
        Renew,
        HandOff,
        StoreData,
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private long Now => _clock.GetTimestamp();

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartSingleTimer(IdleTimer, IdleTimeoutPassed.Instance, _settings.IdleTimeout);
    }

    protected override void PostStop()
    {
        // Stopped while holding (the manager or the system stopped): release best-effort so others need not wait a lease.
        if (_record is not null && _holder is not null && _state is LockState.Held or LockState.Renewing)
        {
            // The holder hears of it first; the release write may let others in.
            if (!_holderRevoked)
            {
                _holder.Ref.Tell(new LockLost(_key, _record.FencingToken, LockLossReason.Revoked));
            }

            var request = new ReleaseLockRequest(_lockKey, _settings.OwnerName, _record.RecordVersionNumber) { DeleteRecord = _holder.Options.DeleteOnRelease };
            _ = _table.ReleaseAsync(request, CancellationToken.None).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            Unhold();
        }

        foreach (var waiter in _waiters)
        {
            waiter.Ref.Tell(new LockNotAcquired(_key, LockRefusalKind.ShuttingDown, "The lock manager stopped."));
        }

        foreach (var reply in _releaseReplies)
        {
            reply.Tell(new LockNotHeld(_key, LockRefusalKind.ShuttingDown, "The lock manager stopped before the release completed; the lock expires after its lease."));
        }

        FailPendingData(LockRefusalKind.ShuttingDown, "The lock manager stopped.");
        base.PostStop();
    }

    // ---- Behaviours -------------------------------------------------------------------------------------------------

    private void BecomeIdle()
    {
        Become(LockState.Idle);
        Timers.StartSingleTimer(IdleTimer, IdleTimeoutPassed.Instance, _settings.IdleTimeout);
        _shutdownReplyTo?.Tell(new AllLocksReleased(_key));
        _shutdownReplyTo = null;
    }

    private void BecomeAcquiring() => Become(LockState.Acquiring);

    private void BecomeWaiting() => Become(LockState.Waiting);

    private void BecomeHeld() => Become(LockState.Held);

    private void BecomeRenewing() => Become(LockState.Renewing);

    private void BecomeReleasing() => Become(LockState.Releasing);

    private void Become(LockState state)
    {
        _state = state;
        if (state != LockState.Idle)
        {
            Timers.Cancel(IdleTimer);
        }

        ReportState();
    }

    /// <summary>
    /// One dispatch for every state: the state's own messages first (a table result or timer only counts when it
    /// belongs to the current operation or grant), then the commands every state takes, then stale results and
    /// timers of a state already left, which are dropped. A switch rather than ReceiveActor handlers because a
    /// ReceiveActor builds its handler set again on every Become (twice per heartbeat) and keeps it per instance:
    /// about 1.2 KB per held lock and a share of every heartbeat's CPU.
    /// </summary>
    protected override void OnReceive(object message)
    {
        if (!OnStateMessage(message))
        {
            OnCommonMessage(message);
        }
    }

    private bool OnStateMessage(object message)
    {
        switch (_state, message)
        {
            case (LockState.Acquiring, AcquireCompleted m) when m.Op == _op:
                OnAcquireCompleted(m);
                return true;
            case (LockState.Acquiring, TableCallFailed m) when m.Op == _op:
                OnAcquireFailed(m);
                return true;
            case (LockState.Acquiring, RetryDue m) when m.Op == _op:
                StartAcquire();
                return true;
            case (LockState.Waiting, RetryDue m) when m.Op == _op:
                StartRead();
                return true;
            case (LockState.Waiting, ReadCompleted m) when m.Op == _op:
                OnReadCompleted(m);
                return true;
            case (LockState.Waiting, TableCallFailed m) when m.Op == _op:
                OnReadFailed(m);
                return true;
            case (LockState.Held, HeartbeatDue):
                ProceedFromHeld(heartbeatDue: true);
                return true;
            case (LockState.Held or LockState.Renewing, SafeDeadlinePassed m) when m.Grant == _grant:
                Lose(LockLossReason.LeaseExpired, null);
                return true;
            case (LockState.Renewing, HeartbeatCompleted m) when m.Op == _op:
                OnHeartbeatCompleted(m);
                return true;
            case (LockState.Renewing, TableCallFailed m) when m.Op == _op:
                OnHeartbeatFailed(m);
                return true;
            case (LockState.Releasing, ReleaseCompleted m) when m.Op == _op:
                OnReleaseCompleted(m);
                return true;
            case (LockState.Releasing, TableCallFailed m) when m.Op == _op:
                OnReleaseFailed(m);
                return true;
            case (LockState.Releasing, RetryDue m) when m.Op == _op:
                SendRelease(retry: true);
                return true;
            default:
                return false;
        }
    }

    private void OnCommonMessage(object message)
    {
        switch (message)
        {
            case Acquire m:
                OnAcquire(m);
                break;
            case Release m:
                OnRelease(m);
                break;
            case StoreLockData m:
                OnStoreData(m);
                break;
            case Terminated m:
                OnRequesterStopped(m.ActorRef);
                break;
            case WaitExpired m:
                OnWaitExpired(m);
                break;
            case ReleaseAllLocks:
                OnReleaseAll();
                break;
            case IdleTimeoutPassed:
                OnIdleTimeout();
                break;

            // Results, timers and retries that belong to a state the actor has left.
            case AcquireCompleted or ReadCompleted or HeartbeatCompleted or ReleaseCompleted or TableCallFailed or RetryDue or HeartbeatDue or SafeDeadlinePassed:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    // ---- Commands, in every state -----------------------------------------------------------------------------------

    private void OnAcquire(Acquire message)
    {
        CommandReceived();
        var sender = Sender;
        var options = message.Options ?? AcquireOptions.Default;
        if (_shuttingDown)
        {
            sender.Tell(new LockNotAcquired(_key, LockRefusalKind.ShuttingDown, "The lock manager is shutting down."));
            return;
        }

        if (_holder?.Ref.Equals(sender) == true && _record is not null && !_releaseRequested && _state is LockState.Held or LockState.Renewing)
        {
            sender.Tell(new LockAcquired(_key, _record.FencingToken, _record.Data));
            return;
        }

        if (_waiters.Any(w => w.Ref.Equals(sender)))
        {
            return;
        }

        var busy = _state is not (LockState.Idle or LockState.Acquiring);
        if (busy && options.WaitTimeout == TimeSpan.Zero)
        {
            sender.Tell(NotAcquiredBecauseHeld());
            return;
        }

        var requester = new Requester(++_nextRequesterId, sender, options, _settings.ResolveTiming(options));
        _waiters.AddLast(requester);
        Context.Watch(sender);
        if (options.WaitTimeout > TimeSpan.Zero)
        {
            Timers.StartSingleTimer(("wait", requester.Id), new WaitExpired(requester.Id), options.WaitTimeout);
        }

        if (_state == LockState.Idle)
        {
            _takeOverVersion = null;
            StartAcquire();
        }
        else
        {
            ReportState();
        }
    }

    private void OnRelease(Release message)
    {
        CommandReceived();
        if (_state == LockState.Releasing && _holder is not null && (_holder.Ref.Equals(Sender) || message.FencingToken == _record?.FencingToken))
        {
            // Already being released: answered when the write completes.
            _releaseReplies.Add(Sender);
            return;
        }

        if (!IsHolder(Sender, message.FencingToken))
        {
            if (RemoveWaiter(Sender) is { } waiter)
            {
                Sender.Tell(new LockNotHeld(_key, LockRefusalKind.Cancelled, "The lock was not held yet; the pending acquire was cancelled."));
                AfterWaiterLeft(waiter);
                return;
            }

            Sender.Tell(new LockNotHeld(_key, LockRefusalKind.NotHeld, _holder is null ? "The lock is not held on this node." : "The lock is held by another requester."));
            return;
        }

        _releaseReplies.Add(Sender);
        RequestRelease(revoke: !_holder!.Ref.Equals(Sender));
    }

    private void OnStoreData(StoreLockData message)
    {
        CommandReceived();
        if (!IsHolder(Sender, message.FencingToken) || _state == LockState.Releasing || _releaseRequested)
        {
            Sender.Tell(new LockNotHeld(_key, LockRefusalKind.NotHeld, "The lock is not held by the sender."));
            return;
        }

        try
        {
            LockValidation.Data(message.Data);
        }
        catch (ArgumentException e)
        {
            Sender.Tell(new LockNotHeld(_key, LockRefusalKind.InvalidRequest, $"Invalid data: {HumanText.Problem(e)}"));
            return;
        }

        _pendingData = message.Data;
        _dataReplies.Add(Sender);
        if (_state == LockState.Held)
        {
            ProceedFromHeld(heartbeatDue: false);
        }
    }

    private void OnRequesterStopped(IActorRef requester)
    {
        if (_holder?.Ref.Equals(requester) == true)
        {
            _log.Info("Holder {0} of lock {1} stopped; releasing the lock.", requester.Path, HumanText.Key(_key));
            RequestRelease(revoke: false);
        }

        if (RemoveWaiter(requester) is { } waiter)
        {
            AfterWaiterLeft(waiter);
        }
    }

    private void OnWaitExpired(WaitExpired message)
    {
        var waiter = _waiters.FirstOrDefault(w => w.Id == message.WaiterId);
        if (waiter is null)
        {
            return;
        }

        _waiters.Remove(waiter);
        var refusal = _state != LockState.Acquiring
            ? NotAcquiredBecauseHeld()
            : _lastTableError is { } error ? TableRefusal(error)
            : new LockNotAcquired(
                _key,
                LockRefusalKind.WaitTimedOut,
                ReferenceEquals(waiter, _writeFor) ? "the acquire was still waiting for the lock table's answer." : "another requester on this node is acquiring it.");

        // A wait that ran out while the lock was held is contention; one that ran out while the table kept failing says so.
        var kind = refusal.Kind == LockRefusalKind.HeldElsewhere ? LockRefusalKind.WaitTimedOut : refusal.Kind;
        waiter.Ref.Tell(refusal with { Kind = kind, Reason = $"Waited {HumanText.Duration(waiter.Options.WaitTimeout)}; {HumanText.Uncapitalised(refusal.Reason)}" });
        AfterWaiterLeft(waiter);
    }

    private void OnReleaseAll()
    {
        CommandReceived();
        _shuttingDown = true;
        FailWaiters(_ => true, new LockNotAcquired(_key, LockRefusalKind.ShuttingDown, "The lock manager is shutting down."));
        if (_state == LockState.Idle)
        {
            Sender.Tell(new AllLocksReleased(_key));
            return;
        }

        _shutdownReplyTo = Sender;
        if (_holder is not null)
        {
            RequestRelease(revoke: true);
        }
        else if (_state == LockState.Waiting)
        {
            BecomeIdle();
        }
    }

    private void OnIdleTimeout()
    {
        if (_state == LockState.Idle && _waiters.Count == 0)
        {
            Context.Parent.Tell(new LockActorIdle(_key, _received));
        }
    }

    /// <summary>Counts a command from the manager; while idle, the idle period starts again (the manager may have declined an earlier idle report because this command was on its way).</summary>
    private void CommandReceived()
    {
        _received++;
        if (_state == LockState.Idle)
        {
            Timers.StartSingleTimer(IdleTimer, IdleTimeoutPassed.Instance, _settings.IdleTimeout);
        }
    }

    // ---- Acquiring and waiting --------------------------------------------------------------------------------------

    private void StartAcquire()
    {
        var front = _waiters.First?.Value;
        if (_acquireWrite is null && front is null)
        {
            BecomeIdle();
            return;
        }

        var op = ++_op;
        if (_acquireWrite is null)
        {
            _writeFor = front;
            _acquireWriteTakeOver = _takeOverVersion;
            _acquireWrite = new PendingWrite<AcquireLockRequest>(
                new AcquireLockRequest(_lockKey, _settings.OwnerName, front!.Timing.LeaseDuration)
                {
                    Data = front.Options.Data,
                    ReplaceData = front.Options.ReplaceData,
                    NewRecordVersionNumber = RecordVersionNumbers.Next(),
                },
                Now);
        }

        var (request, sentAt) = _acquireWrite;
        var takeOver = _acquireWriteTakeOver;
        Run(
            "acquire",
            () => takeOver is null ? _table.TryAcquireAsync(request, CancellationToken.None) : _table.TakeOverAsync(request, takeOver, CancellationToken.None),
            result => new AcquireCompleted(op, result, sentAt));
        BecomeAcquiring();
    }

    private void OnAcquireCompleted(AcquireCompleted message)
    {
        _acquireWrite = null;
        _attempt = 0;
        _lastTableError = null;
        _takeOverVersion = null;
        switch (message.Result)
        {
            case AcquireResult.Granted granted:
                var holder = _waiters.First?.Value;
                if (holder is null || !ReferenceEquals(holder, _writeFor))
                {
                    // The requester this write was for left while it was in flight. The record carries that requester's
                    // lease and data, which the next one must not trust: give it back, then serve the queue afresh.
                    _record = granted.Record;
                    _lastWriteSentAt = message.SentAt;
                    SendRelease();
                    return;
                }

                _waiters.RemoveFirst();
                Timers.Cancel(("wait", holder.Id));
                Hold(holder, granted.Record, message.SentAt);
                FailWaiters(w => w.Options.WaitTimeout == TimeSpan.Zero, new LockNotAcquired(_key, LockRefusalKind.HeldElsewhere, "The lock is held by another requester on this node.", _settings.OwnerName));
                return;

            case AcquireResult.Held held:
                LockMetrics.ContentionWaits.Add(1);

                // The observation survives between try-once requests (an Akka lease's retried Acquire()), so a record
                // seen unchanged for a full lease since an earlier attempt is taken over now.
                Observe(held.Holder, Now);
                if (_waiters.Count > 0 && IsAbandoned(held.Holder))
                {
                    _log.Info("Lock {0} held by '{1}' was not renewed for its lease of {2}; taking it over.", HumanText.Key(_key), held.Holder.OwnerName, HumanText.Duration(held.Holder.LeaseDuration ?? TimeSpan.Zero));
                    _takeOverVersion = held.Holder.RecordVersionNumber;
                    StartAcquire();
                    return;
                }

                FailWaiters(w => w.Options.WaitTimeout == TimeSpan.Zero, HeldBy(held.Holder));
                if (_waiters.Count == 0)
                {
                    BecomeIdle();
                    return;
                }

                BecomeWaiting();
                ScheduleRefresh();
                return;
        }
    }

    private void OnAcquireFailed(TableCallFailed message)
    {
        var unsettled = IsOutcomeUnknown(message.Error);
        if (!unsettled)
        {
            _acquireWrite = null;
        }

        if (!IsTransient(message.Error))
        {
            LogTableError("Acquiring", message.Error);
            FailWaiters(_ => true, TableRefusal(message.Error));
            BecomeIdle();
            return;
        }

        _log.Warning("Acquiring lock {0} failed transiently, retrying: {1}", HumanText.Key(_key), HumanText.Problem(message.Error));
        _lastTableError = message.Error;
        FailWaiters(w => w.Options.WaitTimeout == TimeSpan.Zero, TableRefusal(message.Error));
        if (_waiters.Count == 0 && !unsettled)
        {
            BecomeIdle();
            return;
        }

        // With waiters left, or a write that may hold the record for nobody: retry (the same write, if unsettled).

        Timers.StartSingleTimer(RetryTimer, new RetryDue(_op), Backoff(++_attempt));
    }

    private void StartRead()
    {
        if (_waiters.Count == 0)
        {
            BecomeIdle();
            return;
        }

        var op = ++_op;
        Run("read", () => _table.ReadAsync(_lockKey, CancellationToken.None), record => new ReadCompleted(op, record, Now));
    }

    private void OnReadCompleted(ReadCompleted message)
    {
        _attempt = 0;
        var record = message.Record;
        if (_waiters.Count == 0)
        {
            BecomeIdle();
        }
        else if (record is null || record.IsReleased)
        {
            _takeOverVersion = null;
            StartAcquire();
        }
        else if (_observed is null || _observed.RecordVersionNumber != record.RecordVersionNumber)
        {
            // A changed version number means the holder is alive (or changed): the observation starts again.
            Observe(record, message.ReceivedAt);
            ScheduleRefresh();
        }
        else if (IsAbandoned(record))
        {
            _log.Info("Lock {0} held by '{1}' was not renewed for its lease of {2}; taking it over.", HumanText.Key(_key), record.OwnerName, HumanText.Duration(record.LeaseDuration ?? TimeSpan.Zero));
            _takeOverVersion = record.RecordVersionNumber;
            StartAcquire();
        }
        else
        {
            ScheduleRefresh();
        }
    }

    private void OnReadFailed(TableCallFailed message)
    {
        if (!IsTransient(message.Error))
        {
            LogTableError("Reading", message.Error);
            FailWaiters(_ => true, TableRefusal(message.Error));
            BecomeIdle();
            return;
        }

        ScheduleRefresh();
    }

    /// <summary>Starts observing <paramref name="record"/>, unless the same version is already being observed (its clock keeps running).</summary>
    private void Observe(LockRecord record, long receivedAt)
    {
        var ownerChanged = _observed?.OwnerName != record.OwnerName;
        if (_observed?.RecordVersionNumber != record.RecordVersionNumber)
        {
            _observedAt = receivedAt;
        }

        _observed = record;
        if (ownerChanged && _state == LockState.Waiting)
        {
            ReportState();
        }
    }

    /// <summary>Whether <paramref name="record"/> has been seen unchanged for its full lease plus the drift allowance since the first read that returned it.</summary>
    private bool IsAbandoned(LockRecord record) =>
        record.LeaseDuration is { } lease
        && _observed?.RecordVersionNumber == record.RecordVersionNumber
        && _clock.GetElapsedTime(_observedAt) >= lease + _settings.DriftAllowance;

    private void ScheduleRefresh()
    {
        // Waiters elsewhere read at least once per refresh interval, so a lock left free for a little longer than one
        // interval has been seen free by each of them. Refreshes are jittered downwards only: de-synchronised, and
        // never further apart than the interval a user configured.
        var delay = _yieldToOtherNodes ? _settings.RefreshInterval * 1.1 : JitterDown(_settings.RefreshInterval);
        _yieldToOtherNodes = false;
        if (_observed?.LeaseDuration is { } lease)
        {
            // Read again right when the observed lease (plus drift) has run out, if that comes before the next refresh.
            var untilAbandoned = lease + _settings.DriftAllowance - _clock.GetElapsedTime(_observedAt);
            if (untilAbandoned < delay)
            {
                delay = untilAbandoned < TimeSpan.Zero ? TimeSpan.Zero : untilAbandoned;
            }
        }

        Timers.StartSingleTimer(RetryTimer, new RetryDue(_op), delay);
    }

    // ---- Holding ----------------------------------------------------------------------------------------------------

    private void Hold(Requester holder, LockRecord record, long sentAt)
    {
        if (_handOffs == 0)
        {
            _runStartedAt = sentAt;
        }

        _holder = holder;
        _record = record;
        _lastWriteSentAt = sentAt;
        _grant++;
        _observed = null;
        if (!_countedAsHeld)
        {
            _countedAsHeld = true;
            LockMetrics.HeldLocks.Add(1);
        }

        LockMetrics.Acquisitions.Add(1);
        _log.Debug("Lock {0} acquired by {1} with fencing token {2}.", HumanText.Key(_key), holder.Ref.Path, record.FencingToken);
        BecomeHeld();
        ScheduleHolderTimers();
        Publish(new LockAcquired(_key, record.FencingToken, record.Data), holder.Ref);
    }

    private void ScheduleHolderTimers() => ScheduleHolderTimer(_holder!.Timing.HeartbeatInterval - _clock.GetElapsedTime(_lastWriteSentAt));

    /// <summary>
    /// Arms the holder's timer for whichever comes first: a heartbeat in <paramref name="heartbeatIn"/> (none while a
    /// write is in flight) or the safe deadline, counted from when the last successful write was sent.
    /// </summary>
    private void ScheduleHolderTimer(TimeSpan? heartbeatIn)
    {
        var deadlineIn = _holder!.Timing.SafeDuration - _clock.GetElapsedTime(_lastWriteSentAt);
        if (heartbeatIn is { } heartbeat && (deadlineIn is not { } d || heartbeat < d))
        {
            Timers.StartSingleTimer(HolderTimer, HeartbeatDue.Instance, NotNegative(heartbeat));
        }
        else if (deadlineIn is { } deadline)
        {
            Timers.StartSingleTimer(HolderTimer, new SafeDeadlinePassed(_grant), NotNegative(deadline));
        }
        else
        {
            Timers.Cancel(HolderTimer);
        }
    }

    /// <summary>
    /// Releases the held lock at the next opportunity. When the holder did not ask for it (shutdown, or a release by fencing
    /// token from another actor), the holder is told <see cref="LockLost"/> now, before the release write can let anyone
    /// else take the lock.
    /// </summary>
    private void RequestRelease(bool revoke)
    {
        // A holder that already asked to release is not told it was revoked: its own release is under way.
        if (revoke && !_holderRevoked && !_releaseRequested && _holder is not null && _record is not null)
        {
            _holderRevoked = true;
            LockMetrics.Losses.Add(1, new KeyValuePair<string, object?>("reason", LockLossReason.Revoked.ToString()));
            Publish(new LockLost(_key, _record.FencingToken, LockLossReason.Revoked), _holder.Ref);
        }

        _releaseRequested = true;
        switch (_state)
        {
            case LockState.Held:
                ProceedFromHeld(heartbeatDue: false);
                break;
            case LockState.Releasing when _holder is null:
                // Already releasing; the pending replies are answered when it completes.
                break;
        }
    }

    /// <summary>Decides the next write of a held lock: a release or hand-off, a data write, or a plain heartbeat.</summary>
    private void ProceedFromHeld(bool heartbeatDue)
    {
        if (_heartbeatWrite is not null)
        {
            // Nothing else may be written while the last write's outcome is unknown: it is retried first, as it was.
            StartHeartbeat(_renewKind, _writeFor!);
        }
        else if (_releaseRequested)
        {
            var next = _waiters.First?.Value;
            if (next is not null && !_shuttingDown && KeepsLocalRun())
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
            StartHeartbeat(RenewKind.StoreData, _holder!);
        }
        else if (heartbeatDue)
        {
            StartHeartbeat(RenewKind.Renew, _holder!);
        }
    }

    /// <summary>
    /// Whether the lock passes to the next local waiter rather than being released for other nodes. A run of local
    /// hand-offs ends after <see cref="DynamoLockSettings.MaxLocalHandOffs"/> of them, but not before two refresh
    /// intervals have passed since the table granted it: yielding leaves the lock free for a refresh interval (so that
    /// every waiter elsewhere reads it once), and a run much shorter than that gap would leave a hot lock idle most of
    /// the time.
    /// </summary>
    private bool KeepsLocalRun() =>
        _settings.MaxLocalHandOffs > 0
        && (_handOffs < _settings.MaxLocalHandOffs || _clock.GetElapsedTime(_runStartedAt) < _settings.RefreshInterval * 2);

    /// <summary>Sends a heartbeat with <paramref name="writeFor"/>'s lease: the holder's, or the next requester's for a hand-off.</summary>
    private void StartHeartbeat(RenewKind kind, Requester writeFor)
    {
        var op = ++_op;
        if (_heartbeatWrite is { } unsettled)
        {
            // The last write's outcome is unknown: send it again as it was (its kind, data and version number) first.
            var (same, firstSentAt) = unsettled;
            Run("heartbeat", () => _table.HeartbeatAsync(same, CancellationToken.None), result => new HeartbeatCompleted(op, result, firstSentAt));
            ScheduleHolderTimer(heartbeatIn: null);
            BecomeRenewing();
            return;
        }

        var sentAt = Now;
        _renewKind = kind;
        _writeFor = writeFor;
        _dataInFlight = kind == RenewKind.HandOff ? null : _pendingData;
        _dataRepliesInFlight = _dataInFlight is null ? 0 : _dataReplies.Count;
        var handOffData = kind == RenewKind.HandOff && writeFor.Options.ReplaceData ? writeFor.Options.Data : null;
        var request = new HeartbeatLockRequest(_lockKey, _settings.OwnerName, _record!.RecordVersionNumber, writeFor.Timing.LeaseDuration)
        {
            Data = _dataInFlight ?? handOffData,
            IssueNewFencingToken = kind == RenewKind.HandOff,
            NewRecordVersionNumber = RecordVersionNumbers.Next(),
        };
        _heartbeatWrite = new PendingWrite<HeartbeatLockRequest>(request, sentAt);
        Run("heartbeat", () => _table.HeartbeatAsync(request, CancellationToken.None), result => new HeartbeatCompleted(op, result, sentAt));

        // While the write is in flight only the safe deadline can fire.
        ScheduleHolderTimer(heartbeatIn: null);
        BecomeRenewing();
    }

    private void OnHeartbeatCompleted(HeartbeatCompleted message)
    {
        _heartbeatWrite = null;
        if (message.Result is HeartbeatResult.Lost lost)
        {
            Lose(lost.Current is null || lost.Current.IsReleased ? LockLossReason.ReleasedByOther : LockLossReason.TakenOver, lost.Current);
            return;
        }

        var previous = _record!;
        _record = ((HeartbeatResult.Renewed)message.Result).Record;
        _lastWriteSentAt = message.SentAt;
        _attempt = 0;
        LockMetrics.Heartbeats.Add(1);
        switch (_renewKind)
        {
            case RenewKind.HandOff:
                HandOff(previous);
                return;
        }

        if (_dataInFlight is not null)
        {
            // Data that arrived while this write was in flight stays pending for the next one.
            foreach (var reply in _dataReplies.Take(_dataRepliesInFlight))
            {
                reply.Tell(new LockDataStored(_key, _record.FencingToken));
            }

            _dataReplies.RemoveRange(0, _dataRepliesInFlight);
            if (ReferenceEquals(_pendingData, _dataInFlight))
            {
                _pendingData = null;
            }

            _dataInFlight = null;
        }

        BecomeHeld();
        ScheduleHolderTimers();
        ProceedFromHeld(heartbeatDue: false);
    }

    private void HandOff(LockRecord previous)
    {
        var old = _holder!;
        _holder = null;
        _releaseRequested = false;
        FailPendingData(LockRefusalKind.NotHeld, "The lock was released.");
        Publish(new LockReleased(_key, previous.FencingToken), ReleaseRecipients(old));
        _releaseReplies.Clear();
        _holderRevoked = false;
        LockMetrics.Releases.Add(1);
        UnwatchIfGone(old.Ref);

        var next = _waiters.First?.Value;
        if (next is null || !ReferenceEquals(next, _writeFor))
        {
            // The requester the hand-off was written for left while it was in flight: its lease and data are in the
            // record, so give it back and serve the queue afresh.
            SendRelease();
            return;
        }

        _waiters.RemoveFirst();
        Timers.Cancel(("wait", next.Id));
        _handOffs++;
        Hold(next, _record!, _lastWriteSentAt);
    }

    private void OnHeartbeatFailed(TableCallFailed message)
    {
        if (!IsOutcomeUnknown(message.Error))
        {
            _heartbeatWrite = null;
        }

        if (!IsTransient(message.Error))
        {
            LogTableError("Heartbeat of", message.Error);
            Lose(LockLossReason.TableError, null);
            return;
        }

        LockMetrics.HeartbeatFailures.Add(1);
        _log.Warning("Heartbeat of lock {0} failed transiently, retrying: {1}", HumanText.Key(_key), HumanText.Problem(message.Error));
        BecomeHeld();
        var retry = Backoff(++_attempt);
        if (_holder!.Timing.HeartbeatInterval is { } heartbeat && retry > heartbeat / 2)
        {
            retry = heartbeat / 2;
        }

        // The safe deadline still counts from the last successful write: if no retry succeeds in time, the lock is given up.
        ScheduleHolderTimer(retry);
    }

    private void Lose(LockLossReason reason, LockRecord? current)
    {
        var token = _record!.FencingToken;
        var holder = _holder;
        _op++;
        _log.Warning("Lock {0} (fencing token {1}) lost: {2}{3}.", HumanText.Key(_key), token, reason, current is null ? string.Empty : $", now owned by '{current.OwnerName}'");
        if (!_holderRevoked)
        {
            // A revoked grant was counted (and published) as lost when it was revoked.
            LockMetrics.Losses.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        }

        foreach (var reply in _releaseReplies)
        {
            reply.Tell(new LockNotHeld(_key, LockRefusalKind.Lost, $"The lock had been lost ({reason}) before it was released."));
        }

        _releaseReplies.Clear();
        _releaseRequested = false;
        FailPendingData(LockRefusalKind.Lost, $"The lock was lost ({reason}).");
        var alreadyTold = _holderRevoked;
        Unhold();
        if (!alreadyTold)
        {
            Publish(new LockLost(_key, token, reason), holder?.Ref);
        }
        if (holder is not null)
        {
            UnwatchIfGone(holder.Ref);
        }

        _takeOverVersion = null;
        if (_waiters.Count > 0)
        {
            StartAcquire();
        }
        else
        {
            BecomeIdle();
        }
    }

    // ---- Releasing --------------------------------------------------------------------------------------------------

    private void SendRelease(bool retry = false)
    {
        if (!retry)
        {
            _attempt = 0;
        }

        Timers.Cancel(HolderTimer);
        _handOffs = 0;
        var op = ++_op;
        // A retry is the same write: a release applied on an earlier attempt is then recognised as ours.
        var request = retry && _releaseWrite is { } same ? same : new ReleaseLockRequest(_lockKey, _settings.OwnerName, _record!.RecordVersionNumber)
        {
            DeleteRecord = _holder?.Options.DeleteOnRelease ?? false,
            NewRecordVersionNumber = RecordVersionNumbers.Next(),
        };
        _releaseWrite = request;
        Run("release", () => _table.ReleaseAsync(request, CancellationToken.None), result => new ReleaseCompleted(op, result));
        if (_state != LockState.Releasing)
        {
            BecomeReleasing();
        }
    }

    private void OnReleaseCompleted(ReleaseCompleted message)
    {
        if (message.Result is ReleaseResult.NotHeld notHeld && _holder is not null)
        {
            Lose(notHeld.Current is null || notHeld.Current.IsReleased ? LockLossReason.ReleasedByOther : LockLossReason.TakenOver, notHeld.Current);
            return;
        }

        FinishRelease();
    }

    private void OnReleaseFailed(TableCallFailed message)
    {
        if (IsTransient(message.Error) && ++_attempt < MaxReleaseAttempts)
        {
            Timers.StartSingleTimer(RetryTimer, new RetryDue(_op), Backoff(_attempt));
            return;
        }

        // The holder has stopped heartbeating, so the record frees itself after its lease; nothing is left held here.
        var expiresIn = _holder?.Timing.LeaseDuration is { } lease ? $"it expires {HumanText.Duration(lease)} after its last heartbeat" : "it is fail-closed and stays held until an operator releases it";
        _log.Warning("Could not release lock {0} ({1}): {2}; {3}.", HumanText.Key(_key), LockRefusals.KindOf(message.Error), HumanText.Problem(message.Error), expiresIn);
        FinishRelease(new LockNotHeld(_key, LockRefusals.KindOf(message.Error), $"Could not release the lock: {HumanText.Problem(message.Error)}; {expiresIn}.") { Cause = message.Error });
    }

    /// <summary>Ends a holding by a release: written, or (<paramref name="failed"/>) given up after the table kept failing.</summary>
    private void FinishRelease(LockNotHeld? failed = null)
    {
        _attempt = 0;
        var holder = _holder;
        var token = _record!.FencingToken;
        var recipients = holder is null ? _releaseReplies.ToList() : ReleaseRecipients(holder);
        _releaseRequested = false;
        FailPendingData(LockRefusalKind.NotHeld, "The lock was released.");
        Unhold();
        if (holder is not null && failed is not null)
        {
            // Whoever asked hears that the release failed; subscribers hear that the grant ended without one.
            foreach (var reply in _releaseReplies.Distinct())
            {
                reply.Tell(failed);
            }

            LockMetrics.Losses.Add(1, new KeyValuePair<string, object?>("reason", LockLossReason.TableError.ToString()));
            Publish(new LockLost(_key, token, LockLossReason.TableError), []);
            UnwatchIfGone(holder.Ref);
        }
        else if (holder is not null)
        {
            LockMetrics.Releases.Add(1);
            _log.Debug("Lock {0} (fencing token {1}) released.", HumanText.Key(_key), token);
            Publish(new LockReleased(_key, token), recipients);
            UnwatchIfGone(holder.Ref);
        }

        _releaseReplies.Clear();
        _takeOverVersion = null;
        if (_waiters.Count == 0)
        {
            _yieldToOtherNodes = false;
            BecomeIdle();
        }
        else if (_yieldToOtherNodes)
        {
            // Released to give other nodes a turn after a run of local hand-offs: look again after a refresh.
            _observed = null;
            BecomeWaiting();
            ScheduleRefresh();
        }
        else
        {
            StartAcquire();
        }
    }

    // ---- Helpers ----------------------------------------------------------------------------------------------------

    /// <summary>Who is told a release directly: whoever asked for it, and the holder unless it was already told it lost the lock.</summary>
    private List<IActorRef> ReleaseRecipients(Requester holder)
    {
        var recipients = new List<IActorRef>(_releaseReplies);
        if (!_holderRevoked)
        {
            recipients.Add(holder.Ref);
        }

        return recipients;
    }

    private void Unhold()
    {
        _heartbeatWrite = null;
        _releaseWrite = null;
        Timers.Cancel(HolderTimer);
        _holder = null;
        _record = null;
        _handOffs = 0;
        _holderRevoked = false;
        if (_countedAsHeld)
        {
            _countedAsHeld = false;
            LockMetrics.HeldLocks.Add(-1);
        }
    }

    private bool IsHolder(IActorRef sender, long? fencingToken) =>
        _holder is not null && _record is not null && _state is LockState.Held or LockState.Renewing
        && (_holder.Ref.Equals(sender) || fencingToken == _record.FencingToken);

    private LockNotAcquired NotAcquiredBecauseHeld() => _state == LockState.Waiting && _observed is not null
        ? HeldBy(_observed)
        : new LockNotAcquired(_key, LockRefusalKind.HeldElsewhere, "The lock is held by another requester on this node.", _settings.OwnerName);

    private LockNotAcquired HeldBy(LockRecord holder) =>
        new(_key, LockRefusalKind.HeldElsewhere, $"The lock is held by '{holder.OwnerName}'.", holder.OwnerName);

    private LockNotAcquired TableRefusal(Exception error) =>
        new(_key, LockRefusals.KindOf(error), $"The lock table {(IsTransient(error) ? "is unavailable" : "failed")}: {HumanText.Problem(error)}") { Cause = error };

    private void LogTableError(string operation, Exception error) =>
        _log.Error("{0} lock {1} failed ({2}): {3}", operation, HumanText.Key(_key), LockRefusals.KindOf(error), HumanText.Problem(error));


    private Requester? RemoveWaiter(IActorRef actor)
    {
        var waiter = _waiters.FirstOrDefault(w => w.Ref.Equals(actor));
        if (waiter is not null)
        {
            _waiters.Remove(waiter);
            Timers.Cancel(("wait", waiter.Id));
        }

        return waiter;
    }

    private void AfterWaiterLeft(Requester waiter)
    {
        UnwatchIfGone(waiter.Ref);
        if (_waiters.Count == 0 && _state == LockState.Waiting)
        {
            BecomeIdle();
        }
        else
        {
            ReportState();
        }
    }

    private void FailWaiters(Func<Requester, bool> which, LockNotAcquired refusal)
    {
        foreach (var waiter in _waiters.Where(which).ToList())
        {
            _waiters.Remove(waiter);
            Timers.Cancel(("wait", waiter.Id));
            waiter.Ref.Tell(refusal);
            UnwatchIfGone(waiter.Ref);
        }
    }

    private void FailPendingData(LockRefusalKind kind, string reason)
    {
        foreach (var reply in _dataReplies)
        {
            reply.Tell(new LockNotHeld(_key, kind, reason));
        }

        _dataReplies.Clear();
        _pendingData = null;
        _dataInFlight = null;
    }

    private void UnwatchIfGone(IActorRef actor)
    {
        if (_holder?.Ref.Equals(actor) != true && !_waiters.Any(w => w.Ref.Equals(actor)))
        {
            Context.Unwatch(actor);
        }
    }

    private void Publish(ILockEvent lockEvent, IActorRef? direct) => Publish(lockEvent, direct is null ? [] : [direct]);

    private void Publish(ILockEvent lockEvent, IReadOnlyCollection<IActorRef> direct)
    {
        foreach (var recipient in direct.Distinct())
        {
            recipient.Tell(lockEvent);
        }

        Context.Parent.Tell(new LockEventPublished(lockEvent));
        Context.System.EventStream.Publish(lockEvent);
    }

    private void ReportState()
    {
        var info = new LockInfo(
            _key,
            _state,
            _holder is null ? null : _record?.FencingToken,
            _holder?.Ref,
            _waiters.Count,
            _state == LockState.Waiting ? _observed?.OwnerName : null);

        // The manager keeps the last report for status queries; an unchanged one is not sent again.
        if (info != _reported)
        {
            _reported = info;
            Context.Parent.Tell(new LockStateChanged(info));
        }
    }

    /// <summary>Starts a table call and sends its outcome to this actor as a message; never blocks.</summary>
    private void Run<T>(string operation, Func<Task<T>> call, Func<T, object> onSuccess)
    {
        var self = Self;
        var op = _op;
        var started = Stopwatch.GetTimestamp();
        Task<T> task;
        try
        {
            task = call();
        }
        catch (Exception e)
        {
            self.Tell(new TableCallFailed(op, e));
            return;
        }

        task.ContinueWith(
            t =>
            {
                LockMetrics.TableLatency.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation));
                self.Tell(t.IsCompletedSuccessfully
                    ? onSuccess(t.Result)
                    : new TableCallFailed(op, t.Exception?.GetBaseException() ?? new OperationCanceledException($"The {operation} call was cancelled.")));
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static bool IsOutcomeUnknown(Exception error) => error is LockTableUnavailableException { OutcomeUnknown: true };

    private static bool IsTransient(Exception error) =>
        error is LockTableException { IsTransient: true } or TimeoutException or OperationCanceledException or HttpRequestException or IOException;

    private TimeSpan Backoff(int attempt)
    {
        var exponential = TimeSpan.FromMilliseconds(50 * Math.Pow(2, Math.Min(attempt, 8)));
        return Jitter(exponential < _settings.RefreshInterval ? exponential : _settings.RefreshInterval);
    }

    private static TimeSpan Jitter(TimeSpan value) => value * (0.8 + (Random.Shared.NextDouble() * 0.4));

    private static TimeSpan JitterDown(TimeSpan value) => value * (0.8 + (Random.Shared.NextDouble() * 0.2));

    private static TimeSpan NotNegative(TimeSpan value) => value < TimeSpan.Zero ? TimeSpan.Zero : value;

    private sealed record Requester(long Id, IActorRef Ref, AcquireOptions Options, LockTiming Timing);

    /// <summary>A write and when its first attempt was sent (a holder's lease counts from then).</summary>
    private sealed record PendingWrite<T>(T Request, long FirstSentAt);
}
