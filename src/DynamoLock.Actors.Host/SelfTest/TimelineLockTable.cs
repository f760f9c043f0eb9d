using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// Wraps the lock table a <see cref="LockManager"/> uses and notes, on this process's monotonic clock, when each call was
/// sent, when its answer came back and which record the answer showed. The self-test reads from it when the waiter first
/// saw the crashed holder's record and when it sent its takeover: the waiter's own clock, since the manager runs on the
/// same <see cref="TimeProvider.System"/>.
/// </summary>
internal sealed class TimelineLockTable(ILockTable inner, TimeProvider clock) : ILockTable
{
    private readonly List<Call> _calls = [];

    /// <summary>One call to the table.</summary>
    /// <param name="Operation">The <see cref="ILockTable"/> method, without <c>Async</c>.</param>
    /// <param name="Key">The lock.</param>
    /// <param name="SentAt">The monotonic timestamp at which the call started.</param>
    /// <param name="AnsweredAt">The monotonic timestamp at which its answer came back.</param>
    /// <param name="Seen">The record the answer showed (granted, holder, current), if any.</param>
    /// <param name="Granted">Whether the call granted the lock.</param>
    /// <param name="ObservedVersion">For a takeover, the record version number it was conditioned on.</param>
    internal sealed record Call(string Operation, LockKey Key, long SentAt, long AnsweredAt, LockRecord? Seen, bool Granted, string? ObservedVersion = null);

    /// <summary>The calls answered so far, in the order their answers came.</summary>
    public IReadOnlyList<Call> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    /// <inheritdoc />
    public string TableName => inner.TableName;

    /// <inheritdoc />
    public Task<AcquireResult> TryAcquireAsync(AcquireLockRequest request, CancellationToken cancellationToken = default) =>
        NoteAsync("TryAcquire", request.Key, null, () => inner.TryAcquireAsync(request, cancellationToken), Acquired);

    /// <inheritdoc />
    public Task<AcquireResult> TakeOverAsync(AcquireLockRequest request, string observedRecordVersionNumber, CancellationToken cancellationToken = default) =>
        NoteAsync("TakeOver", request.Key, observedRecordVersionNumber, () => inner.TakeOverAsync(request, observedRecordVersionNumber, cancellationToken), Acquired);

    /// <inheritdoc />
    public Task<HeartbeatResult> HeartbeatAsync(HeartbeatLockRequest request, CancellationToken cancellationToken = default) =>
        NoteAsync("Heartbeat", request.Key, null, () => inner.HeartbeatAsync(request, cancellationToken), result => result switch
        {
            HeartbeatResult.Renewed renewed => (renewed.Record, false),
            HeartbeatResult.Lost lost => (lost.Current, false),
            _ => (null, false),
        });

    /// <inheritdoc />
    public Task<ReleaseResult> ReleaseAsync(ReleaseLockRequest request, CancellationToken cancellationToken = default) =>
        NoteAsync("Release", request.Key, null, () => inner.ReleaseAsync(request, cancellationToken), result => (result is ReleaseResult.NotHeld notHeld ? notHeld.Current : null, false));

    /// <inheritdoc />
    public Task<LockRecord?> ReadAsync(LockKey key, CancellationToken cancellationToken = default) =>
        NoteAsync("Read", key, null, () => inner.ReadAsync(key, cancellationToken), record => (record, false));

    /// <inheritdoc />
    public Task<WaiterRegistration> AddWaiterAsync(LockKey key, string waiter, CancellationToken cancellationToken = default) =>
        NoteAsync("AddWaiter", key, null, () => inner.AddWaiterAsync(key, waiter, cancellationToken), _ => ((LockRecord?)null, false));

    /// <inheritdoc />
    public Task<LockPage> ListAsync(ListLocksRequest request, CancellationToken cancellationToken = default) => inner.ListAsync(request, cancellationToken);

    /// <inheritdoc />
    public Task<EnsureTableResult> EnsureTableAsync(CancellationToken cancellationToken = default) => inner.EnsureTableAsync(cancellationToken);

    private static (LockRecord? Seen, bool Granted) Acquired(AcquireResult result) => result switch
    {
        AcquireResult.Granted granted => (granted.Record, true),
        AcquireResult.Held held => (held.Holder, false),
        _ => (null, false),
    };

    private async Task<T> NoteAsync<T>(string operation, LockKey key, string? observed, Func<Task<T>> call, Func<T, (LockRecord? Seen, bool Granted)> outcome)
    {
        var sentAt = clock.GetTimestamp();
        var result = await call().ConfigureAwait(false);
        var answeredAt = clock.GetTimestamp();
        var (seen, granted) = outcome(result);
        lock (_calls)
        {
            _calls.Add(new Call(operation, key, sentAt, answeredAt, seen, granted, observed));
        }

        return result;
    }
}
