namespace DynamoLock.Actors.Table;

/// <summary>Asks the table to grant a lock to <paramref name="OwnerName"/>.</summary>
/// <param name="Key">The lock.</param>
/// <param name="OwnerName">The identity of the new holder.</param>
/// <param name="LeaseDuration">How long the lock stays valid without a heartbeat; <see langword="null"/> for a fail-closed lock that never expires.</param>
public sealed record AcquireLockRequest(LockKey Key, string OwnerName, TimeSpan? LeaseDuration)
{
    /// <summary>Data to store with the lock; <see langword="null"/> keeps (and returns) the data already stored; an empty array removes it.</summary>
    public byte[]? Data { get; init; }

    /// <summary>Whether <see cref="Data"/> replaces stored data (default), or is stored only when the record has none.</summary>
    public bool ReplaceData { get; init; } = true;

    /// <summary>
    /// The record version number this write sets; <see langword="null"/> lets the table mint one. Mint it once per logical
    /// write and send every retry of that write with the same one: a retry that finds its own earlier attempt applied
    /// (its response was lost) then succeeds instead of mistaking the caller for someone else.
    /// </summary>
    public string? NewRecordVersionNumber { get; init; }

    /// <summary>
    /// The key of the session this lock is held under (session mode), or <see langword="null"/> for a lock heartbeated on
    /// its own. A session-held record names its session and stores <see cref="LockSessions.HeldLeaseDuration"/> as its
    /// lease, whatever <see cref="LeaseDuration"/> says; a write without a session removes the name.
    /// </summary>
    public string? SessionKey { get; init; }
    /// <summary>
    /// The caller's waiter name (as registered with <see cref="ILockTable.AddWaiterAsync"/>), removed from the record's
    /// <see cref="LockRecord.Waiters"/> by the same write that grants the lock (no extra request); other waiters stay.
    /// <see langword="null"/> leaves the set alone. Removed only when the write is granted.
    /// </summary>
    public string? WaiterToRemove { get; init; }
}

/// <summary>Asks the table to renew a lock held by <paramref name="OwnerName"/> under <paramref name="RecordVersionNumber"/>.</summary>
/// <param name="Key">The lock.</param>
/// <param name="OwnerName">The holder's identity.</param>
/// <param name="RecordVersionNumber">The record version number of the holder's last successful write.</param>
/// <param name="LeaseDuration">The lease from this write on; <see langword="null"/> for a fail-closed lock.</param>
public sealed record HeartbeatLockRequest(LockKey Key, string OwnerName, string RecordVersionNumber, TimeSpan? LeaseDuration)
{
    /// <summary>Data to store with the lock; <see langword="null"/> keeps the stored data; an empty array removes it.</summary>
    public byte[]? Data { get; init; }

    /// <summary>
    /// Mints the next fencing token in the same write. Used to pass a lock from one local holder to the next
    /// without releasing it: each holder gets its own token.
    /// </summary>
    public bool IssueNewFencingToken { get; init; }

    /// <summary>
    /// Whether the renewed record comes back with its data (default). <see langword="false"/> asks the table for only what
    /// a holder needs (version number, fencing token, lease, heartbeat time): the returned record's <c>Data</c> is then
    /// empty, and the stored data is what it was, or <see cref="Data"/> when this write set it. A heartbeat of a lock with
    /// 384 KiB of data then does not read it back every time. Nor are the <see cref="LockRecord.Waiters"/> read back: the
    /// returned record's set is then empty, whatever is stored (a heartbeat never changes it).
    /// </summary>
    public bool ReturnData { get; init; } = true;

    /// <summary>
    /// The record version number this write sets; <see langword="null"/> lets the table mint one. Mint it once per logical
    /// write and send every retry of that write with the same one: a retry that finds its own earlier attempt applied
    /// (its response was lost) then succeeds instead of mistaking the caller for someone else.
    /// </summary>
    public string? NewRecordVersionNumber { get; init; }

    /// <summary>
    /// The key of the session this lock is held under (session mode), or <see langword="null"/> for a lock heartbeated on
    /// its own. A session-held record names its session and stores <see cref="LockSessions.HeldLeaseDuration"/> as its
    /// lease, whatever <see cref="LeaseDuration"/> says; a heartbeat (a data write) of a session-held lock must name its session.
    /// </summary>
    public string? SessionKey { get; init; }
}

/// <summary>Asks the table to release a lock held by <paramref name="OwnerName"/> under <paramref name="RecordVersionNumber"/>.</summary>
/// <param name="Key">The lock.</param>
/// <param name="OwnerName">The holder's identity.</param>
/// <param name="RecordVersionNumber">The record version number of the holder's last successful write.</param>
public sealed record ReleaseLockRequest(LockKey Key, string OwnerName, string RecordVersionNumber)
{
    /// <summary>
    /// Deletes the record instead of marking it released. Deleting restarts the key's fencing tokens at 1,
    /// so keep records (the default) when a protected resource relies on tokens.
    /// </summary>
    public bool DeleteRecord { get; init; }

    /// <summary>Data to store with the released record; <see langword="null"/> keeps the stored data; an empty array removes it.</summary>
    public byte[]? Data { get; init; }

    /// <summary>
    /// The record version number this write sets; <see langword="null"/> lets the table mint one. Mint it once per logical
    /// write and send every retry of that write with the same one: a retry that finds its own earlier attempt applied
    /// (its response was lost) then succeeds instead of mistaking the caller for someone else.
    /// </summary>
    public string? NewRecordVersionNumber { get; init; }
}

/// <summary>Asks for one page of lock records.</summary>
public sealed record ListLocksRequest
{
    /// <summary>Only records with this partition key (tables with a sort key); <see langword="null"/> lists the whole table.</summary>
    public string? Key { get; init; }

    /// <summary>The most records in one page (1 to 1000).</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>The <see cref="LockPage.ContinuationToken"/> of the previous page, or <see langword="null"/> for the first page.</summary>
    public string? ContinuationToken { get; init; }
}
