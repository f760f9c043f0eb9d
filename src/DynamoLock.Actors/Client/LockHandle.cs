using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>
/// A held lock, for code outside actors. Dispose it to release the lock; watch <see cref="LostToken"/> to stop the
/// protected work when the lock is lost, and pass <see cref="FencingToken"/> to the resource the lock protects.
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly IActorRef _actor;
    private readonly LockHandleState _state;
    private readonly TimeSpan _releaseTimeout;
    private Task<bool>? _release;

    internal LockHandle(LockAcquired acquired, IActorRef actor, LockHandleState state, TimeSpan releaseTimeout)
    {
        Key = acquired.Key;
        FencingToken = acquired.FencingToken;
        Data = acquired.Data;
        _actor = actor;
        _state = state;
        _releaseTimeout = releaseTimeout;
    }

    /// <summary>The lock name.</summary>
    public string Key { get; }

    /// <summary>Strictly greater than the token of every earlier grant of this key.</summary>
    public long FencingToken { get; }

    /// <summary>The data stored with the lock when it was granted.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Cancelled when the lock is lost, before anyone else can hold it: stop the protected work.</summary>
    public CancellationToken LostToken => _state.LostToken;

    /// <summary>Whether the lock was lost.</summary>
    public bool IsLost => _state.LossReason is not null;

    /// <summary>Why the lock was lost, once it was.</summary>
    public LockLossReason? LossReason => _state.LossReason;

    /// <summary>Stores data with the lock in one conditional write (which also renews the lease).</summary>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when the lock is no longer held.</returns>
    public async Task<bool> StoreDataAsync(byte[] data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _actor.Tell(new LockHandleActor.StoreHandleData(data, completion));
        return await _state.AnswerOrStoppedAsync(completion.Task, static () => false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the lock; calling it again returns the first call's outcome.</summary>
    /// <returns><see langword="true"/> when released; <see langword="false"/> when it had been lost.</returns>
    /// <exception cref="Table.LockTableException">
    /// The release write failed for good (the table is missing, misconfigured or kept failing): the lock is no longer
    /// renewed and expires one lease after its last heartbeat (a fail-closed lock stays held until an operator releases it).
    /// </exception>
    public Task<bool> ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (_release is null)
        {
            var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Interlocked.CompareExchange(ref _release, completion.Task, null) is null)
            {
                _actor.Tell(new LockHandleActor.ReleaseHandle(completion));
            }
        }

        // A handle whose actor already stopped was released or lost: it cannot answer any more.
        return _state.AnswerOrStoppedAsync(_release, () => !IsLost, cancellationToken);
    }

    /// <summary>
    /// Releases the lock (waiting at most the client's release timeout) and frees the handle. Never throws: call
    /// <see cref="ReleaseAsync"/> first to hear whether the release was written (the lock actor logs a failed one).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReleaseAsync().WaitAsync(_releaseTimeout).ConfigureAwait(false);
        }
        catch (Table.LockTableException)
        {
            // The record expires after its lease; ReleaseAsync's caller hears why, and the lock actor logged it.
        }
        catch (TimeoutException)
        {
            // The holder actor is stopped regardless, so the manager's DeathWatch releases the lock.
            _actor.Tell(PoisonPill.Instance);
        }
    }
}
