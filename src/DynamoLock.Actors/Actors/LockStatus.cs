using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>Where a lock is in its life on this node.</summary>
public enum LockState
{
    /// <summary>Not held and not wanted by anyone on this node.</summary>
    Idle,

    /// <summary>An acquire or takeover write is in flight.</summary>
    Acquiring,

    /// <summary>Someone else holds it; this node watches the record to take it when free or abandoned.</summary>
    Waiting,

    /// <summary>Held by a requester on this node.</summary>
    Held,

    /// <summary>Held, with a heartbeat write in flight.</summary>
    Renewing,

    /// <summary>A release write is in flight.</summary>
    Releasing,
}

/// <summary>The state of one lock on this node.</summary>
/// <param name="Key">The lock name.</param>
/// <param name="State">Where it is.</param>
/// <param name="FencingToken">The token of the current grant, when held.</param>
/// <param name="Holder">The requester holding it, when held.</param>
/// <param name="Waiters">Requesters on this node waiting for it.</param>
/// <param name="CurrentOwner">The owner name of a remote holder, while waiting.</param>
public sealed record LockInfo(string Key, LockState State, long? FencingToken, IActorRef? Holder, int Waiters, string? CurrentOwner);

/// <summary>The answer to <see cref="GetLockStatus"/>: the locks this node holds or wants, by key.</summary>
/// <param name="OwnerName">This node's owner name in the lock table.</param>
/// <param name="Locks">The locks that are not idle.</param>
public sealed record LockStatusReport(string OwnerName, IReadOnlyList<LockInfo> Locks);
