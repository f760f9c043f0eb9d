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

    /// <summary>Reads a lock record (strongly consistent); <see langword="null"/> when there is none.</summary>
    Task<LockRecord?> ReadAsync(LockKey key, CancellationToken cancellationToken = default);

    /// <summary>Lists lock records one page at a time.</summary>
    Task<LockPage> ListAsync(ListLocksRequest request, CancellationToken cancellationToken = default);

    /// <summary>Creates the table if it does not exist (on-demand billing, time-to-live where supported) and checks its key schema.</summary>
    Task<EnsureTableResult> EnsureTableAsync(CancellationToken cancellationToken = default);
}
