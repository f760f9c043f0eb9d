using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>A lock event, published to the holder, to subscribers and to the EventStream.</summary>
public interface ILockEvent
{
    /// <summary>The lock name.</summary>
    string Key { get; }
}

/// <summary>The lock is held by the receiver (or, for subscribers, by the node's requester that asked for it).</summary>
/// <param name="Key">The lock name.</param>
/// <param name="FencingToken">Strictly greater than every earlier grant of this key: pass it to the protected resource.</param>
/// <param name="Data">The data stored with the lock.</param>
public sealed record LockAcquired(string Key, long FencingToken, ReadOnlyMemory<byte> Data) : ILockEvent;

/// <summary>The lock was not acquired.</summary>
/// <param name="Key">The lock name.</param>
/// <param name="Kind">Why, as a kind to decide on.</param>
/// <param name="Reason">Why, in words for people: who holds it, which option is wrong, what the table said.</param>
/// <param name="CurrentOwner">The owner name of the current holder, when known.</param>
public sealed record LockNotAcquired(string Key, LockRefusalKind Kind, string Reason, string? CurrentOwner = null)
{
    /// <summary>The lock table's exception behind a table kind, when there is one (for logs; not sent across nodes).</summary>
    public Exception? Cause { get; init; }
}

/// <summary>
/// The lock is no longer held: stop the work it protects now. Sent before the safe deadline passes, that is, before
/// any other node can take the lock over.
/// </summary>
/// <param name="Key">The lock name.</param>
/// <param name="FencingToken">The token of the grant that was lost.</param>
/// <param name="Reason">Why it was lost.</param>
public sealed record LockLost(string Key, long FencingToken, LockLossReason Reason) : ILockEvent;

/// <summary>The lock was released.</summary>
/// <param name="Key">The lock name.</param>
/// <param name="FencingToken">The token of the grant that was released.</param>
public sealed record LockReleased(string Key, long FencingToken) : ILockEvent;

/// <summary>
/// A release or data write was refused or failed: the sender does not hold the lock (<see cref="LockRefusalKind.NotHeld"/>,
/// <see cref="LockRefusalKind.Lost"/>, <see cref="LockRefusalKind.Cancelled"/> for a pending acquire), the request was
/// invalid, or the table failed (a release that failed for good leaves the record to expire after its lease).
/// </summary>
/// <param name="Key">The lock name.</param>
/// <param name="Kind">Why, as a kind to decide on.</param>
/// <param name="Reason">Why, in words for people.</param>
public sealed record LockNotHeld(string Key, LockRefusalKind Kind, string Reason)
{
    /// <summary>The lock table's exception behind a table kind, when there is one (for logs; not sent across nodes).</summary>
    public Exception? Cause { get; init; }
}

/// <summary>Data was stored with a held lock.</summary>
/// <param name="Key">The lock name.</param>
/// <param name="FencingToken">The token of the grant.</param>
public sealed record LockDataStored(string Key, long FencingToken);

/// <summary>Acknowledges <see cref="SubscribeLockEvents"/>.</summary>
public sealed record LockEventsSubscribed(IActorRef Subscriber, string? Key);

/// <summary>Acknowledges <see cref="UnsubscribeLockEvents"/>.</summary>
public sealed record LockEventsUnsubscribed(IActorRef Subscriber, string? Key);

/// <summary>Why a lock was lost.</summary>
public enum LockLossReason
{
    /// <summary>Another owner holds the record now: it took the lock over (after this holder stopped heartbeating) or forced it.</summary>
    TakenOver,

    /// <summary>No heartbeat succeeded before the safe deadline; the lock is given up before anyone can take it over.</summary>
    LeaseExpired,

    /// <summary>The record was released or deleted by someone else (an operator's forced release).</summary>
    ReleasedByOther,

    /// <summary>The table refused a heartbeat for good (table deleted, access denied).</summary>
    TableError,

    /// <summary>
    /// This node released the lock without the holder asking: CoordinatedShutdown, the lock manager stopping, or a
    /// <see cref="Release"/> by fencing token from another actor. Sent before the release is written.
    /// </summary>
    Revoked,
}

/// <summary>
/// Acknowledges <see cref="StopHeartbeat"/>: the lock is no longer renewed. The holder hears <see cref="LockLost"/>
/// (<see cref="LockLossReason.LeaseExpired"/>) at its safe deadline; others can take it one lease after its last write.
/// </summary>
/// <param name="Key">The lock name.</param>
/// <param name="FencingToken">The token of the grant left to expire.</param>
public sealed record LockHeartbeatStopped(string Key, long FencingToken);
