namespace DynamoLock.Actors;

/// <summary>
/// Sent by one node's <see cref="LockManager"/> to another's over Akka.Remote when it frees the lock <paramref name="Key"/>
/// that the other node registered as waiting for: the other node's waiter tries to acquire at once instead of at its
/// next poll.
/// </summary>
/// <remarks>
/// Only a hint: a grant still comes from a conditional write on the lock table, so a notice that is lost, late,
/// duplicated or forged costs at most one refused write and never a second holder. A manager ignores one for a key it
/// has no lock actor for, and never starts one for it. Applications have no need to send it.
/// </remarks>
/// <param name="Key">The lock that was freed.</param>
public sealed record LockFreed(string Key);
