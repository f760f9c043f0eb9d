namespace DynamoLock.Actors.Table;

/// <summary>What <see cref="ILockTable.AddWaiterAsync"/> did (notices: docs/notices.md).</summary>
public enum WaiterRegistration
{
    /// <summary>The record is held and now lists the waiter.</summary>
    Registered,

    /// <summary>
    /// Nothing was written: there is no record, or a released one, so the lock is free to acquire now. A waiter whose
    /// registration lands just after the holder's release learns it here instead of at its next poll.
    /// </summary>
    LockFree,

    /// <summary>The table keeps no waiters (the interface's default, for tables without notices): nothing was written.</summary>
    NotKept,
}
