using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

// Messages between LockManager and its LockActors. A LockActor's own table answers are its core's inputs (Core/CoreInputs.cs).

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

/// <summary>A LockActor's core needs the session for <paramref name="LeaseDuration"/>: the manager has its SessionActor start one.</summary>
internal sealed record SessionNeededNotice(TimeSpan LeaseDuration);

/// <summary>Tells a SessionActor to create its session unless it has one.</summary>
internal sealed record StartSession
{
    public static readonly StartSession Instance = new();
}

/// <summary>A SessionActor's session changed; the manager tells every LockActor (<see cref="SessionChangedNotice"/>).</summary>
internal sealed record SessionStateChanged(TimeSpan LeaseDuration);

/// <summary>Tells a LockActor that a session of its node changed: its core re-checks what it holds or waits for.</summary>
internal sealed record SessionChangedNotice
{
    public static readonly SessionChangedNotice Instance = new();
}
