using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

// Messages between LockManager and its LockActors, and a LockActor's own I/O results and timers.
// Every table call carries the actor's operation number, so a result that arrives after the actor moved on is ignored.

/// <summary>Sent by a LockActor that has had nothing to do for its idle timeout; <paramref name="Received"/> lets the manager see whether a command is still in flight to it.</summary>
internal sealed record LockActorIdle(string Key, long Received);

/// <summary>A LockActor's state changed; the manager keeps the latest for status queries and metrics.</summary>
internal sealed record LockStateChanged(LockInfo Info);

/// <summary>A LockActor published an event; the manager forwards it to subscribers.</summary>
internal sealed record LockEventPublished(ILockEvent Event);

/// <summary>Releases every held lock and refuses new acquisitions (CoordinatedShutdown).</summary>
internal sealed record ReleaseAllLocks
{
    public static readonly ReleaseAllLocks Instance = new();
}

/// <summary>A LockActor finished releasing (or had nothing to release) after <see cref="ReleaseAllLocks"/>.</summary>
internal sealed record AllLocksReleased(string Key)
{
}

internal sealed record AcquireCompleted(long Op, AcquireResult Result, long SentAt);

internal sealed record ReadCompleted(long Op, LockRecord? Record, long ReceivedAt);

internal sealed record HeartbeatCompleted(long Op, HeartbeatResult Result, long SentAt);

internal sealed record ReleaseCompleted(long Op, ReleaseResult Result);

internal sealed record TableCallFailed(long Op, Exception Error);

internal sealed record HeartbeatDue
{
    public static readonly HeartbeatDue Instance = new();
}

internal sealed record SafeDeadlinePassed(long Grant);

internal sealed record RetryDue(long Op);

internal sealed record WaitExpired(long WaiterId);

internal sealed record IdleTimeoutPassed
{
    public static readonly IdleTimeoutPassed Instance = new();
}
