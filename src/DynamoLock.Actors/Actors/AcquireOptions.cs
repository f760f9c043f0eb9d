namespace DynamoLock.Actors;

/// <summary>How one <see cref="Acquire"/> waits for and holds its lock. Unset values come from <see cref="DynamoLockSettings"/>.</summary>
public sealed record AcquireOptions
{
    /// <summary>Options that take every default: try once, the settings' lease and heartbeat.</summary>
    public static readonly AcquireOptions Default = new();

    /// <summary>
    /// How long to wait for a held lock: <see cref="TimeSpan.Zero"/> (default) tries once, <see cref="Timeout.InfiniteTimeSpan"/>
    /// waits until the lock is acquired or the requester stops.
    /// </summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>The lease; <see cref="DynamoLockSettings.LeaseDuration"/> when <see langword="null"/>.</summary>
    public TimeSpan? LeaseDuration { get; init; }

    /// <summary>
    /// The heartbeat period; when <see langword="null"/>, a quarter of <see cref="LeaseDuration"/> if that is set, else
    /// <see cref="DynamoLockSettings.HeartbeatInterval"/>. Must be less than half the lease.
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; init; }

    /// <summary>Data to store with the lock when it is granted; <see langword="null"/> keeps (and returns) the stored data.</summary>
    public byte[]? Data { get; init; }

    /// <summary>Whether <see cref="Data"/> replaces data already stored (default), or is stored only when the record has none.</summary>
    public bool ReplaceData { get; init; } = true;

    /// <summary>Deletes the record on release instead of marking it released. Fencing tokens of the key then restart at 1.</summary>
    public bool DeleteOnRelease { get; init; }

    /// <summary>
    /// A fail-closed lock never expires and is not heartbeated: only its holder's release (or an operator's forced
    /// release) frees it. For work that must never run twice even if its holder vanishes.
    /// </summary>
    public bool FailClosed { get; init; }

    /// <summary>
    /// Whether this lock is held under the node's session for its lease (one heartbeat for all such locks) rather than
    /// heartbeated on its own; <see cref="DynamoLockSettings.UseSessions"/> when <see langword="null"/>. Ignored for
    /// fail-closed locks. A session-held lock cannot be left to expire (<see cref="StopHeartbeat"/> is refused).
    /// </summary>
    public bool? UseSession { get; init; }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock.</summary>
    public static AcquireOptions Wait(TimeSpan timeout) => new() { WaitTimeout = timeout };
}
