namespace DynamoLock.Actors.Table;

/// <summary>A lock record as stored in the lock table.</summary>
/// <param name="Key">The record's key.</param>
/// <param name="OwnerName">The identity of the holder that last wrote the record.</param>
/// <param name="RecordVersionNumber">A random value replaced on every write; observing it unchanged for a full lease
/// is how a waiter learns that the holder stopped heartbeating.</param>
/// <param name="FencingToken">Incremented by every successful acquisition; 0 for records written by clients that do not mint tokens.</param>
public sealed record LockRecord(LockKey Key, string OwnerName, string RecordVersionNumber, long FencingToken)
{
    private readonly IReadOnlySet<string> _waiters = LockWaiters.Empty;

    /// <summary>The lease the holder asked for, or <see langword="null"/> for a fail-closed lock that never expires.</summary>
    public TimeSpan? LeaseDuration { get; init; }

    /// <summary>Whether the holder released the lock and the record was kept.</summary>
    public bool IsReleased { get; init; }

    /// <summary>User data stored atomically with the lock (empty when none).</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The holder's wall-clock time of its last write. For display only: never used for safety decisions.</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    /// <summary>When DynamoDB's time-to-live may delete the record, if the table writes <c>expiresAt</c>.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>
    /// The session the lock is held under (see <see cref="LockSessions"/>), or <see langword="null"/> for a lock its holder
    /// heartbeats. A waiter watches a session-held lock's session record, not the lock's own version number.
    /// </summary>
    public string? SessionKey { get; init; }

    /// <summary>
    /// The nodes that registered as waiting for this lock (<see cref="ILockTable.AddWaiterAsync"/>), so that whoever frees
    /// it can tell them at once; empty when none did (and for records written by clients that know nothing of notices).
    /// A hint for notices only: no safety decision ever reads it. Compared by content; never <see langword="null"/>.
    /// </summary>
    public IReadOnlySet<string> Waiters
    {
        get => _waiters;
        init => _waiters = LockWaiters.From(value ?? throw new ArgumentNullException(nameof(Waiters)));
    }

    /// <summary>Whether the record currently grants the lock to someone (it is not released).</summary>
    public bool IsHeld => !IsReleased;

    /// <summary>Whether this record was written by <paramref name="ownerName"/> with <paramref name="recordVersionNumber"/>.</summary>
    public bool IsWrittenBy(string ownerName, string recordVersionNumber) =>
        string.Equals(OwnerName, ownerName, StringComparison.Ordinal)
        && string.Equals(RecordVersionNumber, recordVersionNumber, StringComparison.Ordinal);
}
