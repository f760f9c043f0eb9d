using System.Diagnostics;
using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>
/// Asks the <see cref="LockManager"/> for the lock <paramref name="Key"/>. The sender becomes the holder: it receives
/// <see cref="LockAcquired"/> or <see cref="LockNotAcquired"/>, and later <see cref="LockLost"/> if the lock is lost.
/// If the holder stops, its lock is released.
/// </summary>
/// <param name="Key">The lock name, 1 to 2048 UTF-8 bytes.</param>
/// <param name="Options">How to acquire and hold it; the manager's defaults when <see langword="null"/>.</param>
public sealed record Acquire(string Key, AcquireOptions? Options = null)
{
    /// <summary>The trace context of the code that made the request: its <c>dynamolock.acquire</c> span goes under it.</summary>
    internal ActivityContext TraceParent { get; init; } = Activity.Current?.Context ?? default;
}

/// <summary>
/// Releases the lock <paramref name="Key"/>. Accepted from the holder, or from anyone who gives the holder's
/// <see cref="FencingToken"/>. Replies <see cref="LockReleased"/> or <see cref="LockNotHeld"/>.
/// </summary>
/// <param name="Key">The lock name.</param>
public sealed record Release(string Key)
{
    /// <summary>The fencing token of the grant to release, for releasing on behalf of the holder.</summary>
    public long? FencingToken { get; init; }

    /// <summary>The trace context of the code that made the request: its <c>dynamolock.release</c> span goes under it.</summary>
    internal ActivityContext TraceParent { get; init; } = Activity.Current?.Context ?? default;
}

/// <summary>
/// Stores <paramref name="Data"/> with a held lock at once, in one conditional write that also renews the lease.
/// Accepted like <see cref="Release"/>. Replies <see cref="LockDataStored"/> or <see cref="LockNotHeld"/>.
/// </summary>
/// <param name="Key">The lock name.</param>
/// <param name="Data">The new data (an empty array removes it), at most 384 KiB.</param>
public sealed record StoreLockData(string Key, byte[] Data)
{
    /// <summary>The fencing token of the grant, for storing on behalf of the holder.</summary>
    public long? FencingToken { get; init; }
}

/// <summary>
/// Stops renewing a held lock and lets it expire after its lease instead of releasing it (for example to keep others out
/// for a while after a crash-like exit). Accepted like <see cref="Release"/>. Replies <see cref="LockHeartbeatStopped"/> or
/// <see cref="LockNotHeld"/>; the holder later gets <see cref="LockLost"/> with <see cref="LockLossReason.LeaseExpired"/>.
/// </summary>
/// <param name="Key">The lock name.</param>
public sealed record StopHeartbeat(string Key)
{
    /// <summary>The fencing token of the grant, for stopping on behalf of the holder.</summary>
    public long? FencingToken { get; init; }
}

/// <summary>
/// Sends <see cref="LockAcquired"/>, <see cref="LockLost"/> and <see cref="LockReleased"/> of one key (or all keys when
/// <paramref name="Key"/> is <see langword="null"/>) to <paramref name="Subscriber"/> until it unsubscribes or stops.
/// Replies <see cref="LockEventsSubscribed"/>.
/// </summary>
public sealed record SubscribeLockEvents(IActorRef Subscriber, string? Key = null);

/// <summary>Ends a <see cref="SubscribeLockEvents"/> subscription. Replies <see cref="LockEventsUnsubscribed"/>.</summary>
public sealed record UnsubscribeLockEvents(IActorRef Subscriber, string? Key = null);

/// <summary>Asks for the state of one lock, or of every lock the manager knows when <paramref name="Key"/> is <see langword="null"/>. Replies <see cref="LockStatusReport"/>.</summary>
public sealed record GetLockStatus(string? Key = null);
