namespace DynamoLock.Actors;

/// <summary>
/// Why a request was refused: the kind carried by <see cref="LockNotAcquired"/> and <see cref="LockNotHeld"/>. Decide on
/// the kind; the reason text beside it is for people and may change between versions.
/// </summary>
/// <remarks>
/// <see cref="DynamoLockClient"/> maps each kind to one outcome: <see cref="HeldElsewhere"/> and
/// <see cref="WaitTimedOut"/> are contention (<c>TryAcquireAsync</c> returns <see langword="null"/>,
/// <c>AcquireAsync</c> throws <see cref="LockNotAcquiredException"/>, a <see cref="TimeoutException"/>);
/// <see cref="InvalidRequest"/> throws <see cref="ArgumentException"/>; the table kinds throw a
/// <see cref="Table.LockTableException"/> subtype; <see cref="Cancelled"/> throws <see cref="OperationCanceledException"/>;
/// <see cref="ShuttingDown"/> throws <see cref="InvalidOperationException"/>.
/// </remarks>
public enum LockRefusalKind
{
    /// <summary>The lock is held by another owner or by another requester on this node, and the request did not wait (or could not wait any longer).</summary>
    HeldElsewhere,

    /// <summary>The wait ran out before the lock became free, or before the table answered the acquire write.</summary>
    WaitTimedOut,

    /// <summary>The request itself is invalid: the key, an option or the data (the reason names which), or <see cref="Acquire"/> sent with Ask.</summary>
    InvalidRequest,

    /// <summary>
    /// The sender does not hold the lock (it is not held on this node, is held by another requester, or was released
    /// meanwhile). Only in <see cref="LockNotHeld"/>.
    /// </summary>
    NotHeld,

    /// <summary>The lock had been lost before the release or data write could complete. Only in <see cref="LockNotHeld"/>.</summary>
    Lost,

    /// <summary>The requester cancelled its pending acquire (a <see cref="Release"/> before the grant, or a cancelled token).</summary>
    Cancelled,

    /// <summary>The lock manager is shutting down or stopped; nothing new is granted.</summary>
    ShuttingDown,

    /// <summary>The lock table does not exist. A configuration error: create it (<c>dynamolock create-table</c> or <c>EnsureTableAsync</c>).</summary>
    TableMissing,

    /// <summary>
    /// The table cannot be called as configured: no AWS credentials were found, they were rejected or do not allow the
    /// call, no region or endpoint is set, or the table's key schema does not match the settings. Retrying will not help.
    /// </summary>
    Misconfigured,

    /// <summary>The table refused the call for good in another way.</summary>
    TableError,

    /// <summary>The table was unreachable, throttled or failing for as long as the request could wait. Transient.</summary>
    TableUnavailable,
}
