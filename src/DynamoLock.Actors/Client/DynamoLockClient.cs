using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>
/// Locks for code outside actors, on top of a <see cref="LockManager"/>:
/// <c>await using var handle = await client.AcquireAsync("key", TimeSpan.FromSeconds(30), ct);</c>
/// </summary>
public sealed class DynamoLockClient
{
    private readonly ActorSystem _system;
    private readonly IActorRef _manager;

    /// <summary>Creates a client for <paramref name="lockManager"/> in <paramref name="system"/>.</summary>
    public DynamoLockClient(ActorSystem system, IActorRef lockManager)
    {
        _system = system ?? throw new ArgumentNullException(nameof(system));
        _manager = lockManager ?? throw new ArgumentNullException(nameof(lockManager));
    }

    /// <summary>How long disposing a handle waits for its release to be confirmed. Default 10 s.</summary>
    public TimeSpan ReleaseTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Acquires the lock, waiting up to <paramref name="timeout"/>.</summary>
    /// <param name="key">The lock name.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until acquired or cancelled.</param>
    /// <param name="cancellationToken">Cancels the wait (the lock is not taken, or given back if it was just granted).</param>
    /// <param name="options">Lease, heartbeat and data options; their <see cref="AcquireOptions.WaitTimeout"/> is replaced by <paramref name="timeout"/>.</param>
    /// <exception cref="LockNotAcquiredException">The lock was not acquired within <paramref name="timeout"/>, or the request was invalid.</exception>
    public async Task<LockHandle> AcquireAsync(string key, TimeSpan timeout, CancellationToken cancellationToken = default, AcquireOptions? options = null)
    {
        return await TryAcquireCoreAsync(key, timeout, options, cancellationToken).ConfigureAwait(false) switch
        {
            (LockHandle handle, _) => handle,
            (_, var refused) => throw new LockNotAcquiredException(refused!),
        };
    }

    /// <summary>Tries to acquire the lock, waiting up to <paramref name="timeout"/> (default: try once).</summary>
    /// <returns>The handle, or <see langword="null"/> when the lock was not acquired.</returns>
    /// <exception cref="ArgumentException">The key or options are invalid.</exception>
    public async Task<LockHandle?> TryAcquireAsync(string key, TimeSpan? timeout = null, AcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (handle, refused) = await TryAcquireCoreAsync(key, timeout ?? TimeSpan.Zero, options, cancellationToken).ConfigureAwait(false);
        if (refused is not null && refused.Reason.StartsWith("Invalid", StringComparison.Ordinal))
        {
            throw new ArgumentException(refused.Reason, nameof(key));
        }

        return handle;
    }

    /// <summary>The state of one lock, or of all locks this node holds or wants.</summary>
    public Task<LockStatusReport> GetStatusAsync(string? key = null, CancellationToken cancellationToken = default) =>
        _manager.Ask<LockStatusReport>(new GetLockStatus(key), TimeSpan.FromSeconds(30), cancellationToken);

    private async Task<(LockHandle? Handle, LockNotAcquired? Refused)> TryAcquireCoreAsync(string key, TimeSpan timeout, AcquireOptions? options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var acquire = new Acquire(key, (options ?? AcquireOptions.Default) with { WaitTimeout = timeout });
        var acquired = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = new LockHandleState();
        // Props from the type and its arguments: the expression form compiles a lambda for every actor it creates.
        var actor = _system.ActorOf(Props.Create(typeof(LockHandleActor), _manager, acquire, acquired, state));
        object answer;
        try
        {
            using (cancellationToken.Register(() => actor.Tell(LockHandleActor.CancelAcquire.Instance)))
            {
                answer = await acquired.Task.ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The holder actor stopped without an answer (its system is shutting down).
            state.Dispose();
            throw new InvalidOperationException($"Lock '{key}' could not be acquired: the actor system is shutting down.");
        }
        catch (OperationCanceledException)
        {
            state.Dispose();
            throw new OperationCanceledException(cancellationToken);
        }

        if (answer is LockAcquired granted)
        {
            return (new LockHandle(granted, actor, state, ReleaseTimeout), null);
        }

        state.Dispose();
        return (null, (LockNotAcquired)answer);
    }
}
