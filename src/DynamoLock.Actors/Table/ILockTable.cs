namespace DynamoLock.Actors.Table;

/// <summary>
/// The lock table port: the few conditional writes and reads the lock protocol is made of.
/// Expected outcomes (granted, held by someone else, lost) are values; failures are exceptions:
/// <see cref="LockTableUnavailableException"/> for transient ones worth retrying, <see cref="LockTableException"/> otherwise.
/// </summary>
/// <remarks>
/// Implementations never compare clocks: every decision is a condition on the record version number and owner.
/// Both adapters (<see cref="DynamoDbLockTable"/> and <see cref="InMemoryLockTable"/>) pass the same contract tests.
/// <para>
/// A supported extension point: implement it to keep locks in another store (or to wrap a table with faults for tests),
/// and run the contract suite (<c>tests/DynamoLock.Actors.Tests/Table/LockTableContract.cs</c>) against it. Until 1.0
/// its shape may still change (see PublicAPI.Unshipped.txt).
/// </para>
/// </remarks>
public interface ILockTable
{
    /// <summary>The table's name, for messages and metrics.</summary>
    string TableName { get; }

    /// <summary>
    /// Takes the lock in one write when it is free (no record, or a released record), minting the next fencing token.
    /// </summary>
    Task<AcquireResult> TryAcquireAsync(AcquireLockRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the lock in one write if the record still has <paramref name="observedRecordVersionNumber"/> (its holder stopped
    /// heartbeating for a full lease) or is free, minting the next fencing token.
    /// </summary>
    Task<AcquireResult> TakeOverAsync(AcquireLockRequest request, string observedRecordVersionNumber, CancellationToken cancellationToken = default);

    /// <summary>Renews a held lock in one write, conditioned on the holder's record version number and owner name.</summary>
    Task<HeartbeatResult> HeartbeatAsync(HeartbeatLockRequest request, CancellationToken cancellationToken = default);

    /// <summary>Releases a held lock in one write, conditioned on the holder's record version number and owner name.</summary>
    Task<ReleaseResult> ReleaseAsync(ReleaseLockRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Registers <paramref name="waiter"/> (a node's address) in the record's <see cref="LockRecord.Waiters"/>, so that whoever
    /// frees the lock can tell it at once (issue 16, notices). One write that adds to the set and changes nothing else: not
    /// the record version number, owner, lease, fencing token or data, so the holder's heartbeats (conditioned on the
    /// version) and clients that know nothing of notices are unaffected. Registering twice is one entry. Only a held record
    /// is registered on: a missing or released one is left alone and reported free, so a registration that lands just
    /// after the release it was meant for is not lost. A hint only: no grant ever depends on it.
    /// </summary>
    /// <param name="key">The lock.</param>
    /// <param name="waiter">The waiting node's name: not empty, at most 1024 characters.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>
    /// <see cref="WaiterRegistration.Registered"/>; <see cref="WaiterRegistration.LockFree"/> when there is no record or a
    /// released one (nothing is written: the lock is free to acquire); <see cref="WaiterRegistration.NotKept"/> from this
    /// default implementation, for tables without notices.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="waiter"/> is empty or too long.</exception>
    Task<WaiterRegistration> AddWaiterAsync(LockKey key, string waiter, CancellationToken cancellationToken = default) => Task.FromResult(WaiterRegistration.NotKept);

    /// <summary>Reads a lock record (strongly consistent); <see langword="null"/> when there is none.</summary>
    Task<LockRecord?> ReadAsync(LockKey key, CancellationToken cancellationToken = default);

    /// <summary>Lists lock records one page at a time.</summary>
    Task<LockPage> ListAsync(ListLocksRequest request, CancellationToken cancellationToken = default);

    /// <summary>Creates the table if it does not exist (on-demand billing, time-to-live where supported) and checks its key schema.</summary>
    Task<EnsureTableResult> EnsureTableAsync(CancellationToken cancellationToken = default);
}
