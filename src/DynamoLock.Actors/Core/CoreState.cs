using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

/// <summary>A local requester: who it is, what it asked for, and until when it waits (<see langword="null"/>: try once, or for ever).</summary>
internal sealed class Requester(object reference, AcquireOptions options, LockTiming timing, TimeSpan? waitDeadline)
{
    public object Ref { get; } = reference;

    public AcquireOptions Options { get; } = options;

    public LockTiming Timing { get; } = timing;

    public TimeSpan? WaitDeadline { get; } = waitDeadline;
}

/// <summary>
/// The lease clock of a holding: whom it is for, the record as last written, and when that write was sent; the safe
/// deadline and the next heartbeat follow from them.
/// </summary>
/// <param name="Requester">The holder.</param>
/// <param name="Record">The record as the last successful write left it.</param>
/// <param name="LastWriteSentAt">When the last successful write was sent (its first attempt), on this node's clock.</param>
/// <param name="Unheld">A record this node got but gives back at once (its requester left, or the grant came too late): no holder is told anything.</param>
internal sealed record Grant(Requester Requester, LockRecord Record, TimeSpan LastWriteSentAt, bool Unheld = false)
{
    /// <summary>Whether the holder was already told <see cref="LockLost"/> (Revoked) because its lock is being released without its asking.</summary>
    public bool Revoked { get; init; }

    /// <summary>When a failed heartbeat is retried, instead of the regular heartbeat time.</summary>
    public TimeSpan? RetryAt { get; init; }

    /// <summary>Until when the holder may trust the lock: <c>LastWriteSentAt + lease - safetyMargin</c>; <see langword="null"/> for fail-closed locks.</summary>
    public TimeSpan? SafeDeadline(LockCoreMutation mutation) =>
        mutation == LockCoreMutation.NoSafetyMargin
            ? LastWriteSentAt + Requester.Timing.LeaseDuration
            : LastWriteSentAt + Requester.Timing.SafeDuration;

    /// <summary>When the next heartbeat is due: a retry's time, else one heartbeat interval after the last write; none when stopped or fail-closed.</summary>
    public TimeSpan? HeartbeatDueAt(bool stopped) =>
        stopped ? null : RetryAt ?? LastWriteSentAt + Requester.Timing.HeartbeatInterval;
}

/// <summary>The FIFO queue of local requesters waiting for the lock, with their wait deadlines.</summary>
internal sealed class WaiterQueue
{
    private readonly LinkedList<Requester> _waiters = new();

    public int Count => _waiters.Count;

    public Requester? First => _waiters.First?.Value;

    /// <summary>The earliest wait deadline of any waiter.</summary>
    public TimeSpan? EarliestDeadline
    {
        get
        {
            TimeSpan? earliest = null;
            foreach (var waiter in _waiters)
            {
                if (waiter.WaitDeadline is { } deadline && (earliest is null || deadline < earliest))
                {
                    earliest = deadline;
                }
            }

            return earliest;
        }
    }

    public void Add(Requester requester) => _waiters.AddLast(requester);

    public bool Contains(object reference)
    {
        foreach (var waiter in _waiters)
        {
            if (waiter.Ref.Equals(reference))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Removes and returns the waiter that is <paramref name="reference"/>, if any.</summary>
    public Requester? Remove(object reference)
    {
        for (var node = _waiters.First; node is not null; node = node.Next)
        {
            if (node.Value.Ref.Equals(reference))
            {
                _waiters.Remove(node);
                return node.Value;
            }
        }

        return null;
    }

    public void Remove(Requester requester) => _waiters.Remove(requester);

    public void RemoveFirst() => _waiters.RemoveFirst();

    /// <summary>The waiters whose deadline is at or before <paramref name="now"/>, in queue order (not removed).</summary>
    public List<Requester> ExpiredAt(TimeSpan now) => _waiters.Where(w => w.WaitDeadline is { } d && d <= now).ToList();

    /// <summary>Removes and returns the waiters that match, in queue order.</summary>
    public List<Requester> RemoveWhere(Func<Requester, bool> which)
    {
        var removed = _waiters.Where(which).ToList();
        foreach (var waiter in removed)
        {
            _waiters.Remove(waiter);
        }

        return removed;
    }
}
