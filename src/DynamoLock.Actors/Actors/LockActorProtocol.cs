using Akka.Actor;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

// Messages between LockManager and its LockActors. A LockActor's own table answers are its core's inputs (Core/CoreInputs.cs).

/// <summary>Sent by a LockActor that has had nothing to do for its idle timeout; <paramref name="Received"/> lets the manager see whether a command is still in flight to it.</summary>
internal sealed record LockActorIdle(string Key, long Received);

/// <summary>
/// A LockActor holds a session-held lock with nothing to do (its core's <c>RestOffer</c>); <paramref name="Received"/>
/// as in <see cref="LockActorIdle"/>. The manager answers <see cref="RestNow"/> if nothing is in flight to it.
/// </summary>
internal sealed record LockActorRestable(string Key, long Received);

/// <summary>
/// From the manager, with nothing in flight to the actor: hand the core over and stop, if it can still rest. The manager
/// holds back whatever comes for the key until the answer (<see cref="LockActorRested"/> or <see cref="LockActorRestRefused"/>).
/// </summary>
internal sealed record RestNow
{
    public static readonly RestNow Instance = new();
}

/// <summary>The LockActor stops and hands its core to the manager, which keeps it until an input for the key comes.</summary>
internal sealed record LockActorRested(Core.LockCore Core);

/// <summary>The LockActor's core could not rest after all (something changed since it offered); it carries on.</summary>
internal sealed record LockActorRestRefused(string Key);

/// <summary>Asks the manager which keys rest (tests and diagnostics); answered with <see cref="RestingKeys"/>.</summary>
internal sealed record GetRestingKeys
{
    public static readonly GetRestingKeys Instance = new();
}

/// <summary>The keys whose cores rest in the manager, without an actor.</summary>
internal sealed record RestingKeys(IReadOnlyList<string> Keys);

/// <summary>A LockActor's state changed; the manager keeps the latest for status queries and metrics.</summary>
internal sealed record LockStateChanged(LockInfo Info);

/// <summary>A LockActor published an event; the manager forwards it to subscribers. <paramref name="Holder"/>: the requester it is about, if one.</summary>
internal sealed record LockEventPublished(ILockEvent Event, IActorRef? Holder = null);

/// <summary>Asks the manager for its health (<see cref="Hosting.DynamoLockHealthCheck"/>); answered with <see cref="LockHealthReport"/>.</summary>
internal sealed record GetLockHealth
{
    public static readonly GetLockHealth Instance = new();
}

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

/// <summary>A LockActor's core freed its lock and these nodes wait for it: the manager sends each a <see cref="LockFreed"/>.</summary>
internal sealed record NotifyWaitersNotice(string Key, IReadOnlyCollection<string> Addresses);

/// <summary>Another node said the lock is free (<see cref="LockFreed"/>): the LockActor's core may try now.</summary>
internal sealed record LockFreedNotice
{
    public static readonly LockFreedNotice Instance = new();
}
