using Akka.Actor;
using Akka.Coordination;
using Akka.Event;

namespace DynamoLock.Actors.Coordination;

/// <summary>
/// An Akka.Coordination lease on DynamoDB, for cluster singletons, sharding and the split brain resolver's
/// lease-majority. Configure it under <c>akka.coordination.lease.dynamodb</c> (see the embedded reference.conf) and
/// point <c>use-lease</c> (or Akka.Hosting's <c>LeaseImplementation</c>) at that path.
/// </summary>
/// <remarks>
/// The lease name is the lock key as it is (cluster tools' names contain <c>/</c> and <c>:</c>); the owner is the node's
/// address. <c>heartbeat-timeout</c> is the lock's lease and <c>heartbeat-interval</c> its heartbeat. <see cref="Acquire()"/>
/// waits up to <c>acquire-wait</c> (default 2 s; <c>0s</c> tries once) for a lease held elsewhere: over Akka.Remote the
/// holder's node tells this one when it releases (docs/notices.md), so a singleton handed over on a planned leave starts
/// without waiting for <c>lease-retry-interval</c>; it answers <see langword="false"/> when the wait runs out. The node keeps
/// observing a record it was refused, so a later <see cref="Acquire()"/> takes over a lease whose holder stopped renewing
/// it for a full <c>heartbeat-timeout</c>.
/// </remarks>
public sealed class DynamoDbLease : Lease
{
    /// <summary>The lease's HOCON path.</summary>
    public const string ConfigPath = "akka.coordination.lease.dynamodb";

    /// <summary>
    /// The <c>acquire-wait</c> when the lease's config leaves it empty (as the embedded reference.conf does), unless half
    /// of <c>lease-operation-timeout</c> is shorter.
    /// </summary>
    internal static readonly TimeSpan DefaultAcquireWait = TimeSpan.FromSeconds(2);

    private readonly DynamoLockClient _client;
    private readonly AcquireOptions _options;
    private readonly TimeSpan _operationTimeout;
    private readonly TimeSpan _acquireWait;
    private readonly ILoggingAdapter _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile LockHandle? _handle;
    private volatile Action<Exception?>? _lostCallback;
    private string? _lastFailure;
    private CancellationTokenSource? _waiting;

    /// <summary>Created by Akka's <c>LeaseProvider</c>.</summary>
    /// <exception cref="ArgumentException">The lease name is not a valid lock key, or a setting is out of range (the message names it).</exception>
    public DynamoDbLease(LeaseSettings settings, ExtendedActorSystem system)
        : base(settings)
    {
        ArgumentNullException.ThrowIfNull(system);
        _ = new Table.LockKey(settings.LeaseName);
        _operationTimeout = settings.TimeoutSettings.OperationTimeout;
        _acquireWait = AcquireWaitOf(settings);
        _client = new DynamoLockClient(system, DynamoDbLeaseManagers.Get(system).ManagerFor(settings)) { ReleaseTimeout = _operationTimeout };
        _options = AcquireOptions.Default;
        _log = Logging.GetLogger(system, typeof(DynamoDbLease));
    }

    /// <summary>
    /// <c>acquire-wait</c>, checked against <c>lease-operation-timeout</c>: the wait runs inside the operation's timeout,
    /// and a wait that filled it would turn every refusal into a <see cref="LeaseTimeoutException"/>.
    /// </summary>
    internal static TimeSpan AcquireWaitOf(LeaseSettings settings)
    {
        const string setting = ConfigPath + ".acquire-wait";
        var config = settings.LeaseConfig;
        var text = config.HasPath("acquire-wait") ? config.GetString("acquire-wait")?.Trim() : null;
        var timeout = settings.TimeoutSettings.OperationTimeout;
        ArgumentOutOfRangeException OutOfRange(object value, string shown) => new(
            setting,
            value,
            $"{setting} ({shown}) must be zero (try once) or positive, and less than lease-operation-timeout ({HumanText.Duration(timeout)}), so that a lease held elsewhere is answered with false rather than a timeout.");

        // HOCON durations cannot be negative (Akka's parser fails on "-1s" with a bare FormatException): say which setting.
        if (text is not null && text.StartsWith('-'))
        {
            throw OutOfRange(text, text);
        }

        // Unset: the default, shortened under a short operation timeout rather than refused (a configuration that worked
        // before acquire-wait existed keeps working).
        var wait = string.IsNullOrEmpty(text) ? (timeout / 2 < DefaultAcquireWait ? timeout / 2 : DefaultAcquireWait) : config.GetTimeSpan("acquire-wait");
        if (wait < TimeSpan.Zero || wait >= timeout)
        {
            throw OutOfRange(wait, HumanText.Duration(wait));
        }

        return wait;
    }

    /// <inheritdoc />
    public override Task<bool> Acquire() => Acquire(null);

    /// <inheritdoc />
    public override async Task<bool> Acquire(Action<Exception?>? leaseLostCallback)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_handle is { IsLost: false })
            {
                // Acquire while held: the latest caller's callback is the one to call on loss.
                _lostCallback = leaseLostCallback;
                return true;
            }

            // Held elsewhere, the lock actor waits up to acquire-wait (registered as a waiter, so the holder's release
            // notice grants it at once); a Release() meanwhile ends the wait.
            using var waiting = new CancellationTokenSource();
            Volatile.Write(ref _waiting, waiting);
            var attempt = _client.TryAcquireAsync(Settings.LeaseName, _acquireWait, _options, waiting.Token);
            LockHandle? handle;
            try
            {
                handle = await attempt.WaitAsync(_operationTimeout).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (waiting.IsCancellationRequested)
            {
                return false;
            }
            catch (TimeoutException e)
            {
                // If the grant still arrives, give it back: nobody will use it.
                _ = attempt.ContinueWith(t => t.Result?.DisposeAsync(), TaskContinuationOptions.OnlyOnRanToCompletion);
                throw new LeaseTimeoutException($"Acquiring lease '{Settings.LeaseName}' did not complete within {HumanText.Duration(_operationTimeout)}.", e);
            }
            catch (Exception e) when (e is Table.LockTableException or ArgumentException)
            {
                // Not contention: a missing table or bad credentials must not look like "held elsewhere" forever, or a
                // singleton silently never starts. The task fails (as Akka's Azure lease does) and the problem is logged.
                throw Failed(e);
            }

            if (handle is null)
            {
                return false;
            }

            _lastFailure = null;

            _handle = handle;
            _lostCallback = leaseLostCallback;
            var name = Settings.LeaseName;
            var log = _log;
            handle.LostToken.Register(() =>
            {
                log.Warning("Lease '{0}' lost: {1}.", name, handle.LossReason);
                _lostCallback?.Invoke(new LeaseException($"Lease '{name}' was lost ({handle.LossReason})."));
            });

            // Lost between the grant and now: the caller must not start work on it (it may not act on a loss signalled
            // before it has the answer).
            if (handle.IsLost)
            {
                _handle = null;
                return false;
            }

            return true;
        }
        finally
        {
            Volatile.Write(ref _waiting, null);
            _gate.Release();
        }
    }

    /// <summary>
    /// The lease exception for a failed acquire, logged as an error the first time (and whenever the problem changes),
    /// then at debug level: the singleton manager retries every <c>LeaseRetryInterval</c> and would repeat it forever.
    /// </summary>
    private LeaseException Failed(Exception error)
    {
        var problem = $"{error.GetType().Name}: {HumanText.Problem(error)}";
        var message = $"Lease '{Settings.LeaseName}' could not be acquired: {HumanText.Problem(error)}";
        if (_lastFailure != problem)
        {
            _lastFailure = problem;
            _log.Error(message);
        }
        else
        {
            _log.Debug(message);
        }

        return new LeaseException(message, error);
    }

    /// <inheritdoc />
    public override async Task<bool> Release()
    {
        // The caller gives the lease up: an Acquire() still waiting for it stops waiting (and answers false) instead of
        // holding this release up for the rest of acquire-wait.
        try
        {
            Volatile.Read(ref _waiting)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That Acquire() has just finished.
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var handle = _handle;
            _handle = null;
            if (handle is null)
            {
                return false;
            }

            try
            {
                return await handle.ReleaseAsync().WaitAsync(_operationTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                throw new LeaseTimeoutException($"Releasing lease '{Settings.LeaseName}' did not complete within {HumanText.Duration(_operationTimeout)}.", e);
            }
            catch (Table.LockTableException e)
            {
                // Not renewed any more, so the record expires after its lease; the caller hears why.
                throw new LeaseException($"Lease '{Settings.LeaseName}' could not be released: {HumanText.Problem(e)}", e);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>Exact without I/O: the node gives the lease up (and this turns false) at its safe deadline, before anyone else can hold it.</remarks>
    public override bool CheckLease() => _handle is { IsLost: false };
}
