using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>
/// Holds one lock on behalf of a <see cref="LockHandle"/>: it is the requester the lock manager sees (so DeathWatch
/// releases the lock if it stops) and turns the lock's events into task completions and the handle's lost token.
/// </summary>
internal sealed class LockHandleActor : ReceiveActor
{
    private readonly IActorRef _manager;
    private readonly string _key;
    private readonly TaskCompletionSource<object> _acquired;
    private readonly LockHandleState _state;
    private readonly List<TaskCompletionSource<bool>> _releases = [];
    private readonly Queue<TaskCompletionSource<bool>> _dataWrites = new();
    private readonly Acquire _acquire;
    private long _token;
    private bool _holding;

    public LockHandleActor(IActorRef manager, Acquire acquire, TaskCompletionSource<object> acquired, LockHandleState state)
    {
        _manager = manager;
        _key = acquire.Key;
        _acquired = acquired;
        _state = state;
        _acquire = acquire;

        Receive<LockAcquired>(m =>
        {
            _token = m.FencingToken;
            if (!_acquired.TrySetResult(m))
            {
                // The caller gave up (cancelled) while the grant was on its way: hand it straight back.
                Context.Stop(Self);
                return;
            }

            _holding = true;
            Become(Holding);
        });
        Receive<LockNotAcquired>(m =>
        {
            _acquired.TrySetResult(m);
            Context.Stop(Self);
        });
        Receive<CancelAcquire>(_ =>
        {
            _acquired.TrySetCanceled();
            _manager.Tell(new Release(_key));
            Context.Stop(Self);
        });
    }

    private void Holding()
    {
        Receive<LockLost>(m => m.FencingToken == _token, m =>
        {
            _holding = false;
            _state.MarkLost(m.Reason);
            FailDataWrites();
            if (_releases.Count > 0)
            {
                // Released already: the application is done with the lock.
                CompleteReleases(false);
                Context.Stop(Self);
                return;
            }

            // Stay until the handle is disposed: the lock manager counts the loss as unreleased (its health check is
            // unhealthy) until its holder releases it or stops.
            Become(Lost);
        });
        Receive<LockReleased>(m => m.FencingToken == _token, _ =>
        {
            _holding = false;
            if (_releases.Count == 0)
            {
                // Released without this handle asking (the lock manager is stopping): for the handle's user that is a loss.
                _state.MarkLost(LockLossReason.Revoked);
            }

            foreach (var release in _releases)
            {
                release.TrySetResult(true);
            }

            FailDataWrites();
            Context.Stop(Self);
        });
        Receive<LockNotHeld>(m =>
        {
            if (_dataWrites.TryDequeue(out var write))
            {
                write.TrySetResult(false);
                return;
            }

            switch (m.Kind)
            {
                case LockRefusalKind.Lost:
                    // The lock actor answers pending requests before it publishes LockLost, which carries the real
                    // reason: stay until it arrives so the handle reports that reason.
                    CompleteReleases(false);
                    return;
                case LockRefusalKind.TableMissing or LockRefusalKind.Misconfigured or LockRefusalKind.TableError or LockRefusalKind.TableUnavailable:
                    // The release write failed for good: the caller hears why; the record expires after its lease.
                    var error = LockRefusals.ToException(m.Key, m.Kind, m.Reason, m.Cause);
                    foreach (var release in _releases)
                    {
                        release.TrySetException(error);
                    }

                    _holding = false;
                    Context.Stop(Self);
                    return;
                default:
                    CompleteReleases(false);
                    Context.Stop(Self);
                    return;
            }
        });
        Receive<LockDataStored>(_ =>
        {
            if (_dataWrites.TryDequeue(out var write))
            {
                write.TrySetResult(true);
            }
        });
        Receive<ReleaseHandle>(m =>
        {
            _releases.Add(m.Completion);
            if (_releases.Count == 1)
            {
                _manager.Tell(new Release(_key) { TraceParent = m.TraceParent });
            }
        });
        Receive<StoreHandleData>(m =>
        {
            _dataWrites.Enqueue(m.Completion);
            _manager.Tell(new StoreLockData(_key, m.Data));
        });
        Receive<CancelAcquire>(_ => { });
    }

    private void Lost()
    {
        Receive<ReleaseHandle>(m =>
        {
            m.Completion.TrySetResult(false);
            _manager.Tell(new Release(_key) { TraceParent = m.TraceParent });
            Context.Stop(Self);
        });
        Receive<StoreHandleData>(m => m.Completion.TrySetResult(false));
        ReceiveAny(_ => { });
    }

    protected override void PreStart()
    {
        base.PreStart();
        _manager.Tell(_acquire);
    }

    protected override void PostStop()
    {
        if (_holding)
        {
            // Stopped while holding (its actor system is shutting down): the lock is being released under the handle.
            _state.MarkLost(LockLossReason.Revoked);
        }

        _acquired.TrySetCanceled();
        foreach (var release in _releases)
        {
            release.TrySetResult(false);
        }

        FailDataWrites();
        _state.MarkStopped();
        base.PostStop();
    }

    private void CompleteReleases(bool released)
    {
        foreach (var release in _releases)
        {
            release.TrySetResult(released);
        }
    }

    private void FailDataWrites()
    {
        while (_dataWrites.TryDequeue(out var write))
        {
            write.TrySetResult(false);
        }
    }

    internal sealed record CancelAcquire
    {
        public static readonly CancelAcquire Instance = new();
    }

    internal sealed record ReleaseHandle(TaskCompletionSource<bool> Completion)
    {
        /// <summary>The trace context of the code that disposed the handle, for the release's span.</summary>
        public System.Diagnostics.ActivityContext TraceParent { get; } = System.Diagnostics.Activity.Current?.Context ?? default;
    }

    internal sealed record StoreHandleData(byte[] Data, TaskCompletionSource<bool> Completion);
}
