using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>
/// Locks for code outside actors, on top of a <see cref="LockManager"/>:
/// <c>await using var handle = await client.AcquireAsync("key", TimeSpan.FromSeconds(30), cancellationToken: ct);</c>
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

    /// <summary>Acquires the lock, waiting up to <paramref name="timeout"/> (default: until acquired or cancelled).</summary>
    /// <param name="key">The lock name.</param>
    /// <param name="timeout">
    /// How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> or <see langword="null"/> waits until acquired or cancelled
    /// (or as long as <paramref name="options"/>' <see cref="AcquireOptions.WaitTimeout"/>, when that is set instead).
    /// </param>
    /// <param name="options">Lease, heartbeat and data options. Give the wait in one place: <paramref name="timeout"/> or the options.</param>
    /// <param name="cancellationToken">Cancels the wait (the lock is not taken, or given back if it was just granted).</param>
    /// <returns>The held lock: dispose it to release.</returns>
    /// <exception cref="LockNotAcquiredException">The lock was held elsewhere until the wait ran out (a <see cref="TimeoutException"/>).</exception>
    /// <exception cref="ArgumentException">The key or options are invalid, or the wait is given twice with different values.</exception>
    /// <exception cref="Table.LockTableException">
    /// The table is missing (<see cref="Table.LockTableNotFoundException"/>), cannot be called as configured
    /// (<see cref="Table.LockTableConfigurationException"/>: credentials, access, region), failed, or stayed unavailable for the
    /// whole wait (<see cref="Table.LockTableUnavailableException"/>).
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The lock manager or its actor system is shutting down.</exception>
    public async Task<LockHandle> AcquireAsync(string key, TimeSpan? timeout = null, AcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        var wait = WaitOf(timeout, options, Timeout.InfiniteTimeSpan);
        return await TryAcquireCoreAsync(key, wait, options, cancellationToken).ConfigureAwait(false) switch
        {
            (LockHandle handle, _) => handle,
            (_, var refused) when LockRefusals.IsContention(refused!.Kind) => throw new LockNotAcquiredException(refused),
            (_, var refused) => throw LockRefusals.ToException(refused!.Key, refused.Kind, refused.Reason, refused.Cause),
        };
    }

    /// <summary>Tries to acquire the lock, waiting up to <paramref name="timeout"/> (default: try once).</summary>
    /// <param name="key">The lock name.</param>
    /// <param name="timeout">How long to wait; zero (the default) tries once, or waits as long as <paramref name="options"/>' <see cref="AcquireOptions.WaitTimeout"/> when that is set instead.</param>
    /// <param name="options">Lease, heartbeat and data options. Give the wait in one place: <paramref name="timeout"/> or the options.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The handle, or <see langword="null"/> only when the lock is held elsewhere (until the wait ran out).</returns>
    /// <exception cref="ArgumentException">The key or options are invalid, or the wait is given twice with different values.</exception>
    /// <exception cref="Table.LockTableException">The table is missing, misconfigured, failed, or stayed unavailable for the whole wait.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The lock manager or its actor system is shutting down.</exception>
    public async Task<LockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, AcquireOptions? options = null, CancellationToken cancellationToken = default)
    {
        var wait = WaitOf(timeout == TimeSpan.Zero ? null : timeout, options, TimeSpan.Zero);
        var (handle, refused) = await TryAcquireCoreAsync(key, wait, options, cancellationToken).ConfigureAwait(false);
        if (refused is not null && !LockRefusals.IsContention(refused.Kind))
        {
            throw LockRefusals.ToException(refused.Key, refused.Kind, refused.Reason, refused.Cause);
        }

        return handle;
    }

    /// <summary>The state of one lock, or of all locks this node holds or wants.</summary>
    public Task<LockStatusReport> GetStatusAsync(string? key = null, CancellationToken cancellationToken = default) =>
        _manager.Ask<LockStatusReport>(new GetLockStatus(key), TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>The wait, given once: the method's <paramref name="timeout"/>, else the options', else <paramref name="fallback"/>.</summary>
    private static TimeSpan WaitOf(TimeSpan? timeout, AcquireOptions? options, TimeSpan fallback)
    {
        var fromOptions = options?.WaitTimeout ?? TimeSpan.Zero;
        if (timeout is { } given && fromOptions != TimeSpan.Zero && fromOptions != given)
        {
            throw new ArgumentException(
                $"The wait is given twice: timeout {HumanText.Duration(given)} and AcquireOptions.WaitTimeout {HumanText.Duration(fromOptions)}. Give it in one place.",
                nameof(timeout));
        }

        var wait = timeout ?? (fromOptions != TimeSpan.Zero ? fromOptions : fallback);
        if (wait < TimeSpan.Zero && wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"The wait must not be negative (got {HumanText.Duration(wait)}); use Timeout.InfiniteTimeSpan to wait until acquired.", nameof(timeout));
        }

        return wait;
    }

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
            throw new InvalidOperationException($"Lock {HumanText.Key(key)} could not be acquired: the actor system is shutting down.");
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
