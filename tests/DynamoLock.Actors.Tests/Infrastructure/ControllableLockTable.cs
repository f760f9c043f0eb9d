using System.Collections.Concurrent;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>
/// Wraps a real lock table (in-memory or DynamoDB) for one node, counting its calls and letting a test fail or freeze
/// them: the port-level fault injection of the actor tests.
/// </summary>
public sealed class ControllableLockTable(ILockTable inner) : ILockTable
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private volatile bool _failHeartbeats;
    private volatile bool _partitioned;
    private volatile TaskCompletionSource? _frozen;
    private volatile TaskCompletionSource? _releasesHeld;
    private volatile Exception? _failure;
    private long _lastSentAt;
    private int _heldReleases;

    public string TableName => inner.TableName;

    /// <summary>Calls by operation (<c>TryAcquire</c>, <c>TakeOver</c>, <c>Heartbeat</c>, <c>Release</c>, <c>Read</c>, <c>AddWaiter</c>).</summary>
    public int this[string operation] => _calls.GetValueOrDefault(operation);

    /// <summary>
    /// When (a <see cref="System.Diagnostics.Stopwatch"/> timestamp) the last call went through to the real table: nothing
    /// this node wrote can be newer than that, however late its heartbeat timer fired.
    /// </summary>
    public long LastSentAt => Interlocked.Read(ref _lastSentAt);

    /// <summary>Makes every heartbeat fail transiently, as a network partition between this node and the table would.</summary>
    public bool FailHeartbeats
    {
        get => _failHeartbeats;
        set => _failHeartbeats = value;
    }

    /// <summary>Makes every call fail transiently, as a full network partition between this node and the table would.</summary>
    public bool Partitioned
    {
        get => _partitioned;
        set => _partitioned = value;
    }

    /// <summary>Makes every call fail with this error from now on (<see langword="null"/> to stop), as a missing table or bad credentials would.</summary>
    public Exception? Failure
    {
        get => _failure;
        set => _failure = value;
    }

    /// <summary>Holds every call from now on until <see cref="Thaw"/>, as for a paused or killed process.</summary>
    public void Freeze() => _frozen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets held calls go through.</summary>
    public void Thaw() => Interlocked.Exchange(ref _frozen, null)?.TrySetResult();

    /// <summary>Holds this node's release writes from now on until <see cref="LetReleasesGo"/>, as a slow table would.</summary>
    public void HoldReleases() => _releasesHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets held release writes go through.</summary>
    public void LetReleasesGo() => Interlocked.Exchange(ref _releasesHeld, null)?.TrySetResult();

    /// <summary>Release writes waiting in <see cref="HoldReleases"/>.</summary>
    public int HeldReleases => Volatile.Read(ref _heldReleases);

    public Task<AcquireResult> TryAcquireAsync(AcquireLockRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("TryAcquire", () => inner.TryAcquireAsync(request, cancellationToken));

    public Task<AcquireResult> TakeOverAsync(AcquireLockRequest request, string observedRecordVersionNumber, CancellationToken cancellationToken = default) =>
        CallAsync("TakeOver", () => inner.TakeOverAsync(request, observedRecordVersionNumber, cancellationToken));

    public Task<HeartbeatResult> HeartbeatAsync(HeartbeatLockRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("Heartbeat", () => _failHeartbeats
            ? Task.FromException<HeartbeatResult>(new LockTableUnavailableException("Injected fault: heartbeat failed."))
            : inner.HeartbeatAsync(request, cancellationToken));

    public Task<ReleaseResult> ReleaseAsync(ReleaseLockRequest request, CancellationToken cancellationToken = default) =>
        CallAsync("Release", async () =>
        {
            if (_releasesHeld is { } held)
            {
                Interlocked.Increment(ref _heldReleases);
                await held.Task.ConfigureAwait(false);
                Interlocked.Decrement(ref _heldReleases);
            }

            return await inner.ReleaseAsync(request, cancellationToken).ConfigureAwait(false);
        });

    public Task<LockRecord?> ReadAsync(LockKey key, CancellationToken cancellationToken = default) =>
        CallAsync("Read", () => inner.ReadAsync(key, cancellationToken));

    public Task<WaiterRegistration> AddWaiterAsync(LockKey key, string waiter, CancellationToken cancellationToken = default) =>
        CallAsync("AddWaiter", () => inner.AddWaiterAsync(key, waiter, cancellationToken));

    public Task<LockPage> ListAsync(ListLocksRequest request, CancellationToken cancellationToken = default) => inner.ListAsync(request, cancellationToken);

    public Task<EnsureTableResult> EnsureTableAsync(CancellationToken cancellationToken = default) => inner.EnsureTableAsync(cancellationToken);

    private async Task<T> CallAsync<T>(string operation, Func<Task<T>> call)
    {
        _calls.AddOrUpdate(operation, 1, (_, count) => count + 1);
        if (_partitioned)
        {
            throw new LockTableUnavailableException($"Injected fault: {operation} failed, this node is cut off from the table.");
        }

        if (_failure is { } failure)
        {
            throw failure;
        }

        if (_frozen is { } frozen)
        {
            await frozen.Task.ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _lastSentAt, System.Diagnostics.Stopwatch.GetTimestamp());
        return await call().ConfigureAwait(false);
    }
}
