using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Demo;

/// <summary>One demo node's view of the shared table, which the demo can cut off (every call fails) to show a lock loss.</summary>
internal sealed class PartitionableLockTable(ILockTable inner) : ILockTable
{
    private volatile bool _partitioned;

    public string TableName => inner.TableName;

    public bool Partitioned
    {
        get => _partitioned;
        set => _partitioned = value;
    }

    public Task<AcquireResult> TryAcquireAsync(AcquireLockRequest request, CancellationToken cancellationToken = default) =>
        Call(() => inner.TryAcquireAsync(request, cancellationToken));

    public Task<AcquireResult> TakeOverAsync(AcquireLockRequest request, string observedRecordVersionNumber, CancellationToken cancellationToken = default) =>
        Call(() => inner.TakeOverAsync(request, observedRecordVersionNumber, cancellationToken));

    public Task<HeartbeatResult> HeartbeatAsync(HeartbeatLockRequest request, CancellationToken cancellationToken = default) =>
        Call(() => inner.HeartbeatAsync(request, cancellationToken));

    public Task<ReleaseResult> ReleaseAsync(ReleaseLockRequest request, CancellationToken cancellationToken = default) =>
        Call(() => inner.ReleaseAsync(request, cancellationToken));

    public Task<LockRecord?> ReadAsync(LockKey key, CancellationToken cancellationToken = default) =>
        Call(() => inner.ReadAsync(key, cancellationToken));

    public Task<WaiterRegistration> AddWaiterAsync(LockKey key, string waiter, CancellationToken cancellationToken = default) =>
        Call(() => inner.AddWaiterAsync(key, waiter, cancellationToken));

    public Task<LockPage> ListAsync(ListLocksRequest request, CancellationToken cancellationToken = default) =>
        Call(() => inner.ListAsync(request, cancellationToken));

    public Task<EnsureTableResult> EnsureTableAsync(CancellationToken cancellationToken = default) => inner.EnsureTableAsync(cancellationToken);

    private Task<T> Call<T>(Func<Task<T>> call) =>
        _partitioned ? Task.FromException<T>(new LockTableUnavailableException("Demo: this node is cut off from the lock table.")) : call();
}
