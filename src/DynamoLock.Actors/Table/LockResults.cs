namespace DynamoLock.Actors.Table;

/// <summary>The outcome of an acquire or takeover write.</summary>
public abstract record AcquireResult
{
    private AcquireResult()
    {
    }

    /// <summary>The lock is ours: the granting write's record, with the new fencing token and the stored data.</summary>
    public sealed record Granted(LockRecord Record) : AcquireResult;

    /// <summary>Someone else holds the lock; <paramref name="Holder"/> is their record as read after the failed write.</summary>
    public sealed record Held(LockRecord Holder) : AcquireResult;
}

/// <summary>The outcome of a heartbeat write.</summary>
public abstract record HeartbeatResult
{
    private HeartbeatResult()
    {
    }

    /// <summary>The lease was renewed; <paramref name="Record"/> is the record as written.</summary>
    public sealed record Renewed(LockRecord Record) : HeartbeatResult;

    /// <summary>The lock is no longer ours; <paramref name="Current"/> is the record now stored, if any.</summary>
    public sealed record Lost(LockRecord? Current) : HeartbeatResult;
}

/// <summary>The outcome of a release write.</summary>
public abstract record ReleaseResult
{
    private ReleaseResult()
    {
    }

    /// <summary>The lock was released (or its record deleted).</summary>
    public sealed record Released : ReleaseResult
    {
        /// <summary>A release that returned no waiters.</summary>
        public static readonly Released Instance = new();

        private readonly IReadOnlySet<string> _waiters = LockWaiters.Empty;

        /// <summary>
        /// The record's <see cref="LockRecord.Waiters"/> as the release found them (the release clears them, in the same
        /// write): the nodes to tell that the lock is free. Empty when none registered, and when the write's answer was lost
        /// and its outcome was settled by reading the record back (the set was already cleared: those waiters find the lock
        /// free at their next poll). A hint for notices only. Compared by content; never <see langword="null"/>.
        /// </summary>
        public IReadOnlySet<string> Waiters
        {
            get => _waiters;
            init => _waiters = LockWaiters.From(value ?? throw new ArgumentNullException(nameof(Waiters)));
        }
    }

    /// <summary>The lock was not ours to release; <paramref name="Current"/> is the record now stored, if any.</summary>
    public sealed record NotHeld(LockRecord? Current) : ReleaseResult;
}

/// <summary>One page of lock records.</summary>
/// <param name="Records">The records of this page.</param>
/// <param name="ContinuationToken">Pass to the next request for the next page; <see langword="null"/> on the last page.</param>
public sealed record LockPage(IReadOnlyList<LockRecord> Records, string? ContinuationToken);

/// <summary>What <see cref="ILockTable.EnsureTableAsync"/> found or did.</summary>
/// <param name="TableName">The table.</param>
/// <param name="Created">Whether the table was created by this call.</param>
/// <param name="TimeToLiveEnabled">Whether DynamoDB time-to-live is enabled on the <c>expiresAt</c> attribute; <see langword="null"/> when it could not be determined (the server does not support it).</param>
public sealed record EnsureTableResult(string TableName, bool Created, bool? TimeToLiveEnabled);
