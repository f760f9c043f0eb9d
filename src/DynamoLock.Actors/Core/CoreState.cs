using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

/// <summary>A local requester: who it is, what it asked for, and until when it waits (<see langword="null"/>: try once, or for ever).</summary>
internal sealed class Requester(object reference, AcquireOptions options, LockTiming timing, TimeSpan? waitDeadline, SessionSlot? session = null)
{
    /// <summary>The session this requester holds its lock under (session mode), or <see langword="null"/> for a lock heartbeated on its own.</summary>
    public SessionSlot? Session { get; } = session;

    public object Ref { get; } = reference;

    public AcquireOptions Options { get; } = options;

    public LockTiming Timing { get; } = timing;

    // TimeSpan.MaxValue for none: half the size of a TimeSpan?, once per requester.
    private readonly TimeSpan _waitDeadline = waitDeadline ?? TimeSpan.MaxValue;

    public TimeSpan? WaitDeadline => _waitDeadline == TimeSpan.MaxValue ? null : _waitDeadline;
}

/// <summary>
/// The lease clock of a holding: whom it is for, what the last successful write left (version number, fencing token,
/// data: not the whole record), and when that write was sent; the safe deadline and the next heartbeat follow from them.
/// </summary>
/// <param name="Requester">The holder.</param>
/// <param name="RecordVersionNumber">The version number the last successful write set.</param>
/// <param name="FencingToken">The token of this grant.</param>
/// <param name="Data">The data stored with the lock.</param>
/// <param name="LastWriteSentAt">When the last successful write was sent (its first attempt), on this node's clock.</param>
/// <param name="Unheld">A record this node got but gives back at once (its requester left, or the grant came too late): no holder is told anything.</param>
internal sealed record Grant(Requester Requester, string RecordVersionNumber, long FencingToken, ReadOnlyMemory<byte> Data, TimeSpan LastWriteSentAt, bool Unheld = false)
{
    // TimeSpan.MaxValue for none: a TimeSpan? is twice the size, in every held lock.
    private readonly TimeSpan _retryAt = TimeSpan.MaxValue;

    /// <summary>The generation of the session a session-held grant was written under: it is trusted while that session is.</summary>
    public long SessionGeneration { get; init; }

    /// <summary>Whether the holder was already told <see cref="LockLost"/> (Revoked) because its lock is being released without its asking.</summary>
    public bool Revoked { get; init; }

    /// <summary>When a failed heartbeat is retried, instead of the regular heartbeat time.</summary>
    public TimeSpan? RetryAt
    {
        get => _retryAt == TimeSpan.MaxValue ? null : _retryAt;
        init => _retryAt = value ?? TimeSpan.MaxValue;
    }

    /// <summary>Until when the holder may trust the lock: <c>LastWriteSentAt + lease - safetyMargin</c>; <see langword="null"/> for fail-closed locks.</summary>
    public TimeSpan? SafeDeadline(LockCoreMutation mutation) =>
        Requester.Session is { } session
            ? session.Current is { IsLive: true } current && current.Generation == SessionGeneration ? current.SafeDeadline : TimeSpan.Zero
            : mutation == LockCoreMutation.NoSafetyMargin
                ? LastWriteSentAt + Requester.Timing.LeaseDuration
                : LastWriteSentAt + Requester.Timing.SafeDuration;

    /// <summary>
    /// When the next heartbeat is due: a retry's time, else one heartbeat interval after the last write; none when
    /// stopped, fail-closed, or held under a session (whose one heartbeat renews every lock held under it).
    /// </summary>
    public TimeSpan? HeartbeatDueAt(bool stopped) =>
        stopped ? null : RetryAt ?? (Requester.Session is null ? LastWriteSentAt + Requester.Timing.HeartbeatInterval : null);
}

/// <summary>
/// The FIFO queue of local requesters waiting for the lock, with their wait deadlines. A struct held in a field of the
/// core, and its list made on first use and dropped when empty: most held locks have no waiter, and an empty queue
/// object and list were ~64 bytes per held lock.
/// </summary>
internal struct WaiterQueue
{
    private LinkedList<Requester>? _waiters;

    public readonly int Count => _waiters?.Count ?? 0;

    public readonly Requester? First => _waiters?.First?.Value;

    private readonly IEnumerable<Requester> All => _waiters ?? Enumerable.Empty<Requester>();

    /// <summary>The earliest wait deadline of any waiter.</summary>
    public readonly TimeSpan? EarliestDeadline
    {
        get
        {
            TimeSpan? earliest = null;
            foreach (var waiter in All)
            {
                if (waiter.WaitDeadline is { } deadline && (earliest is null || deadline < earliest))
                {
                    earliest = deadline;
                }
            }

            return earliest;
        }
    }

    public void Add(Requester requester) => (_waiters ??= new LinkedList<Requester>()).AddLast(requester);

    public readonly bool Contains(object reference) => All.Any(w => w.Ref.Equals(reference));

    /// <summary>Removes and returns the waiter that is <paramref name="reference"/>, if any.</summary>
    public Requester? Remove(object reference)
    {
        for (var node = _waiters?.First; node is not null; node = node.Next)
        {
            if (node.Value.Ref.Equals(reference))
            {
                _waiters!.Remove(node);
                DropIfEmpty();
                return node.Value;
            }
        }

        return null;
    }

    public void Remove(Requester requester)
    {
        _waiters?.Remove(requester);
        DropIfEmpty();
    }

    public void RemoveFirst()
    {
        _waiters!.RemoveFirst();
        DropIfEmpty();
    }

    /// <summary>The waiters whose deadline is at or before <paramref name="now"/>, in queue order (not removed).</summary>
    public readonly IReadOnlyList<Requester> ExpiredAt(TimeSpan now) =>
        Count == 0 ? [] : All.Where(w => w.WaitDeadline is { } d && d <= now).ToList();

    /// <summary>Removes and returns the waiters that match, in queue order.</summary>
    public List<Requester> RemoveWhere(Func<Requester, bool> which)
    {
        var removed = All.Where(which).ToList();
        foreach (var waiter in removed)
        {
            _waiters!.Remove(waiter);
        }

        DropIfEmpty();
        return removed;
    }

    private void DropIfEmpty()
    {
        if (_waiters is { Count: 0 })
        {
            _waiters = null;
        }
    }
}

/// <summary>A write and when its first attempt was sent (a holder's lease counts from then).</summary>
internal sealed record PendingWrite<T>(T Request, TimeSpan FirstSentAt)
{
    /// <summary>Whether an attempt's outcome was unknown: the write may be applied, so it is retried as it was until answered.</summary>
    public bool OutcomeUnknown { get; init; }
}

/// <summary>How the cores tell a passing table failure from a lasting one, and how long they wait before a retry.</summary>
internal static class CoreRetries
{
    /// <summary>Whether <paramref name="error"/> may pass (throttling, a 5xx, a timeout, a dropped connection): worth retrying.</summary>
    public static bool IsTransient(Exception error) =>
        error is LockTableException { IsTransient: true } or TimeoutException or OperationCanceledException or HttpRequestException or IOException;

    /// <summary>Exponential from 100 ms, capped at the refresh interval, with ±20% jitter from the core's entropy.</summary>
    public static TimeSpan Backoff(int attempt, LockCoreOptions options)
    {
        var exponential = TimeSpan.FromMilliseconds(50 * Math.Pow(2, Math.Min(attempt, 8)));
        var capped = exponential < options.RefreshInterval ? exponential : options.RefreshInterval;
        return capped * (0.8 + (options.Entropy.NextDouble() * 0.4));
    }
}
