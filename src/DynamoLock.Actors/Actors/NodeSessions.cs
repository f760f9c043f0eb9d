using System.Collections.Concurrent;
using DynamoLock.Actors.Core;

namespace DynamoLock.Actors;

/// <summary>
/// One lock manager's sessions (one per lease duration in use) and the clock its cores share. The manager makes a
/// session's slot and actor; lock actors read the slots, on their own threads, when they step.
/// </summary>
internal sealed class NodeSessions(TimeProvider timeProvider) : IOwnSessions
{
    private readonly ConcurrentDictionary<TimeSpan, SessionSlot> _slots = new();
    private readonly long _origin = timeProvider.GetTimestamp();

    /// <summary>The node's monotonic time as every core of this manager counts it: a session's deadline and a lock's step compare on it.</summary>
    public TimeSpan Now => timeProvider.GetElapsedTime(_origin);

    /// <summary>What this manager's actors have seen of the table, for its health check.</summary>
    public NodeHealth Health { get; } = new();

    /// <summary>The slot of the session for <paramref name="leaseDuration"/>, if the manager made one.</summary>
    public SessionSlot? Find(TimeSpan leaseDuration) => _slots.GetValueOrDefault(leaseDuration);

    /// <summary>Adds the slot of the session for <paramref name="leaseDuration"/> (the manager's thread only); it lasts as long as the manager.</summary>
    public SessionSlot Add(TimeSpan leaseDuration) => _slots[leaseDuration] = new SessionSlot(leaseDuration);

    /// <inheritdoc />
    public bool IsLive(string sessionKey)
    {
        foreach (var slot in _slots.Values)
        {
            if (slot.Current is { IsLive: true } current && string.Equals(current.Key, sessionKey, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
