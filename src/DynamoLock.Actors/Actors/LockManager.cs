using Akka;
using Akka.Actor;
using Akka.Event;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>
/// The entry point for locks in an actor system: send it <see cref="Acquire"/>, <see cref="Release"/>,
/// <see cref="StoreLockData"/>, <see cref="SubscribeLockEvents"/> and <see cref="GetLockStatus"/>. It starts one lock
/// actor per key on demand (stopped again when idle), forwards events to subscribers, answers status queries, and
/// releases every held lock during CoordinatedShutdown. In an actor system with remoting it also tells the managers of
/// other nodes waiting for a lock it freed (<see cref="LockFreed"/>), and hears of theirs.
/// </summary>
/// <remarks>
/// Bad input (an empty or over-long key, inconsistent timing options, oversized data) is answered with
/// <see cref="LockNotAcquired"/> or <see cref="LockNotHeld"/> naming what was wrong; it never reaches a lock actor.
/// Register one per actor system with <c>WithDynamoLock</c> (Akka.Hosting) or create it with <see cref="Props(ILockTable, DynamoLockSettings?)"/>.
/// </remarks>
public sealed class LockManager : ReceiveActor
{
    private readonly ILockTable _table;
    private readonly DynamoLockSettings _settings;

    private static readonly Deploy LockActorDeploy = new Deploy().WithMailbox(LockMailbox.ConfigPath);

    // One set of core options for every lock actor: a copy per actor was ~60 bytes per held lock.
    private readonly Core.LockCoreOptions _coreOptions;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Child> _children = new(StringComparer.Ordinal);

    // Session-held locks with nothing to do: their cores alone, without an actor or a timer (see RestOffer). The first
    // input for a key takes its core up in a new lock actor; the manager watches the holders meanwhile.
    private readonly Dictionary<string, Core.LockCore> _resting = new(StringComparer.Ordinal);

    // How many resting locks each holder has: a Terminated for anyone else never scans the resting locks.
    private readonly Dictionary<IActorRef, int> _restingHolders = [];

    // Session mode: the manager's sessions (and the clock its cores share), and the actor of each.
    private readonly NodeSessions _sessions;
    private readonly Dictionary<TimeSpan, (IActorRef? Actor, LockTiming Timing)> _sessionActors = [];
    private readonly Dictionary<IActorRef, string> _keysByChild = [];
    private readonly Dictionary<string, LockInfo> _status = new(StringComparer.Ordinal);
    private readonly HashSet<(IActorRef Subscriber, string? Key)> _subscriptions = [];

    // Locks lost (not revoked by this node) whose application has not yet moved on: no Release or Acquire for the key
    // since, and the holder still running. The health check is unhealthy while there are any.
    private readonly Dictionary<string, (LockLost Lost, IActorRef? Holder)> _unreleasedLosses = new(StringComparer.Ordinal);
    private readonly ShutdownFlag _stopped = new();
    private long _childCounter;
    private bool _shuttingDown;
    private ShutdownRelease? _shutdownRelease;

    /// <summary>Creates the manager; use <see cref="Props(ILockTable, DynamoLockSettings?)"/>.</summary>
    public LockManager(ILockTable table, DynamoLockSettings settings)
    {
        _table = table ?? throw new ArgumentNullException(nameof(table));
        _settings = (settings ?? throw new ArgumentNullException(nameof(settings))).Validate();
        _sessions = new NodeSessions(_settings.TimeProvider);
        var noticeAddress = NoticeAddressOf(Context.System, Self.Path);
        _coreOptions = Core.LockCoreOptions.From(_settings) with
        {
            OwnSessions = _sessions,
            SessionWatch = new Core.SessionWatch(),
            NoticeAddress = noticeAddress,

            // With notices a freed lock is announced: polling is only the fallback, and can be slower.
            RefreshInterval = _settings.RefreshIntervalWith(notices: noticeAddress is not null),
        };
        LockMailbox.EnsureConfigured(Context.System);

        Receive<Acquire>(OnAcquire);
        Receive<Release>(OnRelease);
        Receive<StoreLockData>(OnStoreData);
        Receive<StopHeartbeat>(OnStopHeartbeat);
        Receive<GetLockStatus>(OnGetStatus);
        Receive<GetLockHealth>(_ => Sender.Tell(HealthReport()));
        Receive<SubscribeLockEvents>(OnSubscribe);
        Receive<UnsubscribeLockEvents>(OnUnsubscribe);
        Receive<LockEventPublished>(OnEventPublished);
        Receive<LockStateChanged>(OnStateChanged);
        Receive<LockActorIdle>(OnChildIdle);
        Receive<LockActorRestable>(OnChildRestable);
        Receive<LockActorRested>(OnChildRested);
        Receive<LockActorRestRefused>(OnChildRestRefused);
        Receive<GetRestingKeys>(_ => Sender.Tell(new RestingKeys(_resting.Keys.Order(StringComparer.Ordinal).ToList())));
        Receive<ReleaseAllLocks>(_ => OnReleaseAll());
        Receive<AllLocksReleased>(OnChildReleasedAll);
        Receive<Terminated>(OnTerminated);
        Receive<SessionNeededNotice>(m => SessionActorFor(m.LeaseDuration, timing: null)?.Tell(StartSession.Instance));
        Receive<SessionStateChanged>(_ => OnSessionStateChanged());
        Receive<NotifyWaitersNotice>(OnNotifyWaiters);
        Receive<LockFreed>(OnLockFreed);
    }

    /// <summary>The settings in force.</summary>
    public DynamoLockSettings Settings => _settings;

    /// <summary>Where other nodes send this manager's notices (tests); <see langword="null"/> without remoting.</summary>
    internal string? NoticeAddress => _coreOptions.NoticeAddress;

    /// <summary>How often this manager's waiters poll (tests): <see cref="DynamoLockSettings.RefreshIntervalWith"/>.</summary>
    internal TimeSpan RefreshInterval => _coreOptions.RefreshInterval;

    /// <summary>Props for a manager on <paramref name="table"/>.</summary>
    /// <param name="table">The lock table: a <see cref="DynamoDbLockTable"/>, or an <see cref="InMemoryLockTable"/> shared by the systems that compete.</param>
    /// <param name="settings">Timing and identity; defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public static Props Props(ILockTable table, DynamoLockSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        var validated = (settings ?? new DynamoLockSettings()).Validate();
        return Akka.Actor.Props.Create(() => new LockManager(table, validated));
    }

    /// <inheritdoc />
    protected override void PreStart()
    {
        base.PreStart();

        // Akka starts its scheduler on first use and blocks the caller until the scheduler's worker runs. When that first
        // use is a burst of new lock actors starting their timers on every dispatcher thread at once, all of them block
        // and the thread pool must grow until the worker gets going: acquiring 1,000 to 100,000 keys right after the
        // system started stalled for 30 s to 4 min in about one run in ten. One use here, on one thread, starts it first.
        Context.System.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(1), static () => { });

        var self = Self;
        var stopped = _stopped;
        var timeout = _settings.ShutdownReleaseTimeout;
        var log = _log;
        CoordinatedShutdown.Get(Context.System).AddTask(_settings.ShutdownPhase, "dynamolock-release-locks", async () =>
        {
            if (stopped.Value)
            {
                return Done.Instance;
            }

            try
            {
                await self.Ask<Done>(ReleaseAllLocks.Instance, timeout).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                log.Warning("Not every lock was released within {0} during shutdown; the rest expire after their lease.", timeout);
            }

            return Done.Instance;
        });
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _stopped.Value = true;

        // As a lock actor does when it stops: holders hear of it and the locks are released (best-effort, unanswered).
        var effects = new List<Core.CoreEffect>();
        foreach (var core in _resting.Values)
        {
            effects.Clear();
            core.Step(Core.StoppedInput.Instance, _sessions.Now, effects);
            foreach (var effect in effects)
            {
                switch (effect)
                {
                    case Core.SendTo m:
                        ((IActorRef)m.To).Tell(m.Message);
                        break;
                    case Core.PublishEvent m:
                        OnEventPublished(new LockEventPublished(m.Event, m.Holder as IActorRef));
                        Context.System.EventStream.Publish(m.Event);
                        break;
                    case Core.CallTable m:
                        CoreInterpreter.Call(_table, m.Op, m.Call, ActorRefs.Nobody, health: null);
                        break;
                }
            }
        }

        LockMetrics.RestingLocks.Add(-_resting.Count);
        _resting.Clear();
        _restingHolders.Clear();
        base.PostStop();
    }

    /// <inheritdoc />
    protected override SupervisorStrategy SupervisorStrategy() =>
        // A lock actor that failed has lost track of its lock: restarting it would forget the holder, so it stops
        // (releasing what it held, best-effort) and the next request for the key starts a fresh one.
        new OneForOneStrategy(e =>
        {
            _log.Error(e, "A lock actor failed; it is stopped.");
            return Directive.Stop;
        });

    private void OnAcquire(Acquire message)
    {
        var key = message.Key;
        if (Invalid(key) is { } invalidKey)
        {
            Sender.Tell(new LockNotAcquired(key ?? string.Empty, LockRefusalKind.InvalidRequest, invalidKey));
            return;
        }

        LockTiming timing;
        try
        {
            timing = _settings.ResolveTiming(message.Options ?? AcquireOptions.Default);
        }
        catch (ArgumentException e)
        {
            Sender.Tell(new LockNotAcquired(key, LockRefusalKind.InvalidRequest, $"Invalid acquire request: {HumanText.Problem(e)}"));
            return;
        }

        if (_shuttingDown)
        {
            Sender.Tell(new LockNotAcquired(key, LockRefusalKind.ShuttingDown, "The lock manager is shutting down."));
            return;
        }

        if (Sender.Path.Elements.FirstOrDefault() == "temp")
        {
            // An Ask's temporary actor would become the holder and stop as soon as it has the answer, releasing the lock.
            Sender.Tell(new LockNotAcquired(key, LockRefusalKind.InvalidRequest, "Acquire was sent with Ask: the temporary asker would hold the lock and release it as soon as it stops. Send Acquire from the actor that holds the lock, or use DynamoLockClient."));
            return;
        }

        if (timing.UsesSession(message.Options ?? AcquireOptions.Default, _settings))
        {
            // The session's slot exists before the lock actor looks it up; the session itself starts when a core needs it.
            SessionActorFor(timing.LeaseDuration!.Value, timing);
        }

        _unreleasedLosses.Remove(key);
        Route(key, message, create: true);
    }

    /// <summary>
    /// The session actor for <paramref name="lease"/>. One that stopped (it failed) is made again on the next demand, on
    /// the same slot: the lock actors that hold or wait under it keep reading that slot, and the generations go on.
    /// </summary>
    private IActorRef? SessionActorFor(TimeSpan lease, LockTiming? timing)
    {
        if (_sessionActors.TryGetValue(lease, out var known))
        {
            if (known.Actor is { } running)
            {
                return running;
            }

            timing = known.Timing;
        }

        if (timing is null)
        {
            return null;
        }

        var slot = _sessions.Find(lease) ?? _sessions.Add(lease);
        var actor = Context.ActorOf(
            Akka.Actor.Props.Create(() => new SessionActor(_table, _sessions, slot, timing, _coreOptions)),
            $"session-{(long)lease.TotalMilliseconds}ms-{++_childCounter}");
        Context.Watch(actor);
        _sessionActors[lease] = (actor, timing);
        return actor;
    }

    private void OnSessionStateChanged()
    {
        // Every lock actor re-checks: those holding under a lost session lose their locks, those waiting for it write.
        foreach (var child in _children.Values)
        {
            Deliver(child, SessionChangedNotice.Instance, Self, command: false);
        }

        // A resting core needs telling only once its holding has ended (its session lost or replaced); the others rest on.
        var now = _sessions.Now;
        foreach (var key in _resting.Where(r => r.Value.DeadlinePassed(now)).Select(r => r.Key).ToList())
        {
            Deliver(WakeResting(key)!, SessionChangedNotice.Instance, Self, command: false);
        }
    }

    /// <summary>
    /// The manager's path with the system's remote address, for other nodes to send <see cref="LockFreed"/> to;
    /// <see langword="null"/> when the system has no remoting (a local provider's address names no host): then no
    /// lock core registers as a waiter and waiters poll, as they always did.
    /// </summary>
    private static string? NoticeAddressOf(ActorSystem system, ActorPath self)
    {
        // The provider's address, not Akka.Remote's types: the library does not depend on Akka.Remote.
        var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
        return address.HasGlobalScope ? self.ToStringWithAddress(address) : null;
    }

    private void OnNotifyWaiters(NotifyWaitersNotice message)
    {
        if (_coreOptions.NoticeAddress is not { } own)
        {
            // Without remoting there is no way to reach them: they find the lock free at their next poll.
            return;
        }

        var notice = new LockFreed(message.Key);
        foreach (var address in message.Addresses)
        {
            if (string.Equals(address, own, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                // Only a remote actor path: anything else would select relative to this manager (one of its own lock
                // actors, say). No handshake and no state per address: a notice that does not arrive costs a poll.
                if (!ActorPath.TryParse(address, out var path) || !path.Address.HasGlobalScope)
                {
                    _log.Warning("Not telling waiter {0} that lock {1} is free: it is not a remote actor path. It finds the lock free at its next poll.", address, message.Key);
                    continue;
                }

                Context.ActorSelection(path).Tell(notice, ActorRefs.NoSender);
                LockMetrics.NoticesSent.Add(1, new KeyValuePair<string, object?>("owner", _settings.OwnerName));
            }
            catch (Exception e)
            {
                // The addresses come from the table, written by any client: a bad one must not stop the manager.
                _log.Warning(e, "Could not tell waiter {0} that lock {1} is free; it finds it free at its next poll.", address, message.Key);
            }
        }
    }

    private void OnLockFreed(LockFreed message)
    {
        // From another node, or anyone who can reach this one: only a hint, and never a reason to start a lock actor.
        if (Invalid(message.Key) is { } problem)
        {
            _log.Debug("Ignoring a LockFreed notice: {0}", problem);
            return;
        }

        // A resting core holds its lock here, so it waits for nobody: it rests on.
        if (_children.TryGetValue(message.Key, out var child))
        {
            Deliver(child, LockFreedNotice.Instance, Self, command: false);
        }
    }

    private void OnRelease(Release message)
    {
        if (Invalid(message.Key) is { } problem)
        {
            Sender.Tell(new LockNotHeld(message.Key ?? string.Empty, LockRefusalKind.InvalidRequest, problem));
            return;
        }

        // The application has heard of its loss and let go: the node is healthy again as far as this lock goes.
        _unreleasedLosses.Remove(message.Key);
        if (!Route(message.Key, message, create: false))
        {
            Sender.Tell(new LockNotHeld(message.Key, LockRefusalKind.NotHeld, "The lock is not held on this node."));
        }
    }

    private void OnStoreData(StoreLockData message)
    {
        var problem = Invalid(message.Key);
        if (problem is null)
        {
            try
            {
                ArgumentNullException.ThrowIfNull(message.Data, "data");
                LockValidation.Data(message.Data);
            }
            catch (ArgumentException e)
            {
                problem = $"Invalid data: {HumanText.Problem(e)}";
            }
        }

        if (problem is not null)
        {
            Sender.Tell(new LockNotHeld(message.Key ?? string.Empty, LockRefusalKind.InvalidRequest, problem));
            return;
        }

        if (!Route(message.Key, message, create: false))
        {
            Sender.Tell(new LockNotHeld(message.Key, LockRefusalKind.NotHeld, "The lock is not held on this node."));
        }
    }

    private void OnStopHeartbeat(StopHeartbeat message)
    {
        if (Invalid(message.Key) is { } problem)
        {
            Sender.Tell(new LockNotHeld(message.Key ?? string.Empty, LockRefusalKind.InvalidRequest, problem));
            return;
        }

        if (!Route(message.Key, message, create: false))
        {
            Sender.Tell(new LockNotHeld(message.Key, LockRefusalKind.NotHeld, "The lock is not held on this node."));
        }
    }

    private void OnGetStatus(GetLockStatus message)
    {
        var locks = message.Key is null
            ? _status.Values.Concat(_resting.Values.Select(RestingInfo)).OrderBy(i => i.Key, StringComparer.Ordinal).ToList()
            : _status.TryGetValue(message.Key, out var info) ? [info] : _resting.TryGetValue(message.Key, out var core) ? [RestingInfo(core)] : [];
        Sender.Tell(new LockStatusReport(_settings.OwnerName, locks));
    }

    private void OnSubscribe(SubscribeLockEvents message)
    {
        if (message.Subscriber is null || message.Subscriber.IsNobody())
        {
            return;
        }

        _subscriptions.Add((message.Subscriber, message.Key));
        Context.Watch(message.Subscriber);
        Sender.Tell(new LockEventsSubscribed(message.Subscriber, message.Key));
    }

    private void OnUnsubscribe(UnsubscribeLockEvents message)
    {
        _subscriptions.Remove((message.Subscriber, message.Key));
        if (!_subscriptions.Any(s => s.Subscriber.Equals(message.Subscriber)) && !_restingHolders.ContainsKey(message.Subscriber) && !HasUnreleasedLoss(message.Subscriber))
        {
            Context.Unwatch(message.Subscriber);
        }

        Sender.Tell(new LockEventsUnsubscribed(message.Subscriber, message.Key));
    }

    private void OnEventPublished(LockEventPublished message)
    {
        if (message.Event is LockLost { Reason: not LockLossReason.Revoked } lost)
        {
            _unreleasedLosses[lost.Key] = (lost, message.Holder);
            if (message.Holder is { } holder && !_stopped.Value)
            {
                // A holder that stops has stopped the work the lock protected: that ends the loss too.
                Context.Watch(holder);
            }
        }

        foreach (var (subscriber, key) in _subscriptions)
        {
            if (key is null || string.Equals(key, message.Event.Key, StringComparison.Ordinal))
            {
                subscriber.Tell(message.Event);
            }
        }
    }

    private void OnStateChanged(LockStateChanged message)
    {
        if (!_keysByChild.ContainsKey(Sender))
        {
            return;
        }

        if (message.Info.State == LockState.Idle && message.Info.Waiters == 0)
        {
            _status.Remove(message.Info.Key);
        }
        else
        {
            _status[message.Info.Key] = message.Info;
        }
    }

    private void OnChildIdle(LockActorIdle message)
    {
        // Stop the child only if every command forwarded to it has been received; otherwise one is in flight.
        if (_children.TryGetValue(message.Key, out var child) && child.Actor.Equals(Sender) && child.Forwarded == message.Received)
        {
            _children.Remove(message.Key);
            _status.Remove(message.Key);
            Context.Stop(child.Actor);
        }
    }

    private void OnReleaseAll()
    {
        _shuttingDown = true;
        foreach (var key in _resting.Keys.ToList())
        {
            WakeResting(key);
        }

        if (_shutdownRelease is { } running)
        {
            running.ReplyTo.Add(Sender);
            CompleteShutdownReleaseIfDone();
            return;
        }

        var pending = new HashSet<IActorRef>(_children.Values.Select(c => c.Actor));
        _shutdownRelease = new ShutdownRelease([Sender], pending);
        _log.Info("Releasing the locks of {0} lock actor(s) for shutdown.", pending.Count);
        foreach (var child in _children.Values)
        {
            Deliver(child, ReleaseAllLocks.Instance, Self, command: true);
        }

        CompleteShutdownReleaseIfDone();
    }

    private void OnChildReleasedAll(AllLocksReleased message)
    {
        _shutdownRelease?.Pending.Remove(Sender);
        CompleteShutdownReleaseIfDone();
    }

    private void CompleteShutdownReleaseIfDone()
    {
        if (_shutdownRelease is { Pending.Count: 0 } done)
        {
            foreach (var replyTo in done.ReplyTo)
            {
                replyTo.Tell(Done.Instance);
            }

            _shutdownRelease = done with { ReplyTo = [] };
        }
    }

    private void OnTerminated(Terminated message)
    {
        foreach (var (lease, session) in _sessionActors)
        {
            if (message.ActorRef.Equals(session.Actor))
            {
                // Its slot says the session is not live (its PostStop). Locks waiting for it may have asked the stopping
                // actor already: told again, they ask anew, and the next demand makes another actor.
                _sessionActors[lease] = (null, session.Timing);
                OnSessionStateChanged();
                return;
            }
        }

        if (_keysByChild.Remove(message.ActorRef, out var key))
        {
            if (_children.TryGetValue(key, out var child) && child.Actor.Equals(message.ActorRef))
            {
                _children.Remove(key);
                _status.Remove(key);

                // It failed while the manager held messages back for it: they go to a fresh actor (or are refused there).
                foreach (var (held, sender, command) in child.HeldBack ?? [])
                {
                    if (command)
                    {
                        Route(key, held, sender, create: held is Acquire);
                    }
                }
            }

            _shutdownRelease?.Pending.Remove(message.ActorRef);
            CompleteShutdownReleaseIfDone();
            return;
        }

        // A holder of resting locks stopped: their cores are taken up, and their new actors' DeathWatch tells them.
        if (_restingHolders.ContainsKey(message.ActorRef))
        {
            foreach (var restingKey in _resting.Where(r => message.ActorRef.Equals(r.Value.Holder)).Select(r => r.Key).ToList())
            {
                WakeResting(restingKey);
            }
        }

        if (HasUnreleasedLoss(message.ActorRef))
        {
            foreach (var lostKey in _unreleasedLosses.Where(l => message.ActorRef.Equals(l.Value.Holder)).Select(l => l.Key).ToList())
            {
                _unreleasedLosses.Remove(lostKey);
            }
        }

        _subscriptions.RemoveWhere(s => s.Subscriber.Equals(message.ActorRef));
    }

    // Losses are rare and few: a scan is cheaper than an index kept up for every lock.
    private bool HasUnreleasedLoss(IActorRef holder) => _unreleasedLosses.Count > 0 && _unreleasedLosses.Values.Any(l => holder.Equals(l.Holder));

    private LockHealthReport HealthReport()
    {
        int held = _resting.Count, waiting = 0;
        foreach (var info in _status.Values)
        {
            switch (info.State)
            {
                case LockState.Held or LockState.Renewing or LockState.Releasing:
                    held++;
                    break;
                case LockState.Acquiring or LockState.Waiting:
                    waiting++;
                    break;
            }
        }

        var health = _sessions.Health;
        return new LockHealthReport(
            held,
            waiting,
            _unreleasedLosses.Values.Select(l => l.Lost).OrderBy(l => l.Key, StringComparer.Ordinal).ToList(),
            health.FailingHeartbeats,
            health.LastAnswer,
            health.LastProblem,
            _shuttingDown);
    }

    private void OnChildRestable(LockActorRestable message)
    {
        // As for idle: only with nothing in flight to it. Then what comes for the key waits for the actor's answer.
        if (!_shuttingDown && _children.TryGetValue(message.Key, out var child) && child.Actor.Equals(Sender) && child.Forwarded == message.Received && !child.RestRequested)
        {
            child.RestRequested = true;
            child.Actor.Tell(RestNow.Instance);
        }
    }

    private void OnChildRested(LockActorRested message)
    {
        var key = message.Core.Key;
        if (!_children.TryGetValue(key, out var child) || !child.Actor.Equals(Sender))
        {
            return;
        }

        _children.Remove(key);
        _keysByChild.Remove(child.Actor);

        // It stops on its own: its Terminated would only cost a lookup per resting lock.
        Context.Unwatch(child.Actor);
        _resting[key] = message.Core;
        LockMetrics.RestingLocks.Add(1);

        // Its status is read from the core while it rests: an entry per lock was ~90 bytes of the ~1 KB a resting lock costs.
        _status.Remove(key);
        if (message.Core.Holder is IActorRef holder)
        {
            Context.Watch(holder);
            _restingHolders[holder] = _restingHolders.GetValueOrDefault(holder) + 1;
        }

        if (child.HeldBack is { } held)
        {
            var woken = WakeResting(key)!;
            if (_shutdownRelease?.Pending.Remove(child.Actor) == true)
            {
                _shutdownRelease.Pending.Add(woken.Actor);
            }

            foreach (var (m, sender, command) in held)
            {
                Deliver(woken, m, sender, command);
            }
        }
    }

    private void OnChildRestRefused(LockActorRestRefused message)
    {
        if (_children.TryGetValue(message.Key, out var child) && child.Actor.Equals(Sender))
        {
            child.RestRequested = false;
            var held = child.HeldBack;
            child.HeldBack = null;
            foreach (var (m, sender, command) in held ?? [])
            {
                Deliver(child, m, sender, command);
            }
        }
    }

    /// <summary>Takes a resting core up in a new lock actor; <see langword="null"/> if <paramref name="key"/> has none.</summary>
    private Child? WakeResting(string key)
    {
        if (!_resting.Remove(key, out var core))
        {
            return null;
        }

        LockMetrics.RestingLocks.Add(-1);
        if (core.Holder is IActorRef holder && _restingHolders.TryGetValue(holder, out var count))
        {
            if (count > 1)
            {
                _restingHolders[holder] = count - 1;
            }
            else
            {
                _restingHolders.Remove(holder);
            }
        }

        _status[key] = RestingInfo(core);
        return AddChild(key, new Props(LockActorDeploy, typeof(LockActor), core, _table, _settings));
    }

    /// <summary>What a resting lock's status is: held, by its holder, with nobody waiting (or it would not rest).</summary>
    private static LockInfo RestingInfo(Core.LockCore core) =>
        new(core.Key, LockState.Held, core.FencingToken, (IActorRef?)core.Holder, 0, null);

    private Child AddChild(string key, Props props)
    {
        var actor = Context.ActorOf(props, $"lock-{++_childCounter}");
        Context.Watch(actor);
        var child = new Child(actor);
        _children[key] = child;
        _keysByChild[actor] = key;
        return child;
    }

    /// <summary>Tells a lock actor, or holds the message back while the manager waits to hear whether the actor rests.</summary>
    private static void Deliver(Child child, object message, IActorRef sender, bool command)
    {
        if (child.RestRequested)
        {
            (child.HeldBack ??= []).Add((message, sender, command));
            return;
        }

        if (command)
        {
            child.Forwarded++;
        }

        child.Actor.Tell(message, sender);
    }

    private bool Route(string key, object command, bool create) => Route(key, command, Sender, create);

    private bool Route(string key, object command, IActorRef sender, bool create)
    {
        if (!_children.TryGetValue(key, out var child))
        {
            child = WakeResting(key);
        }

        if (child is null)
        {
            if (!create)
            {
                return false;
            }

            // Props from the type and its arguments: the expression form compiled a lambda for every lock actor, which
            // made acquiring 20,000 keys take 15.8 s instead of 0.7 s. One deploy shared by all: a copy per lock actor
            // (what WithMailbox makes) was 72 bytes per held lock.
            child = AddChild(key, new Props(LockActorDeploy, typeof(LockActor), key, new LockKey(key), _table, _settings, _coreOptions));
        }

        Deliver(child, command, sender, command: true);
        return true;
    }

    private static string? Invalid(string? key)
    {
        try
        {
            _ = new LockKey(key!);
            return LockSessions.IsSessionKey(key)
                ? $"Invalid key: keys that start with '{LockSessions.KeyPrefix}' are reserved for the records of sessions."
                : null;
        }
        catch (ArgumentException e)
        {
            return $"Invalid key: {HumanText.Problem(e)}";
        }
    }

    private sealed class Child(IActorRef actor)
    {
        public IActorRef Actor { get; } = actor;

        public long Forwarded { get; set; }

        /// <summary>The manager asked it to rest (<see cref="RestNow"/>) and has not heard back.</summary>
        public bool RestRequested { get; set; }

        /// <summary>What came for the key meanwhile, delivered once the actor answers.</summary>
        public List<(object Message, IActorRef Sender, bool Command)>? HeldBack { get; set; }
    }

    private sealed record ShutdownRelease(List<IActorRef> ReplyTo, HashSet<IActorRef> Pending);

    private sealed class ShutdownFlag
    {
        public volatile bool Value;
    }
}
