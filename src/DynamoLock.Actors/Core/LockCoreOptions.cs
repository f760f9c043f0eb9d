namespace DynamoLock.Actors.Core;

/// <summary>What a <see cref="LockCore"/> needs from the settings, plus its sources of randomness and the mutations the simulator tests it with.</summary>
internal sealed record LockCoreOptions(string OwnerName, TimeSpan RefreshInterval, TimeSpan DriftAllowance, int MaxLocalHandOffs, TimeSpan IdleTimeout)
{
    /// <summary>Record version numbers and jitter; deterministic in the simulator.</summary>
    public ILockCoreEntropy Entropy { get; init; } = SystemEntropy.Instance;

    /// <summary>Deliberate protocol breaks, for the simulator's proof that it catches them. Never set outside it.</summary>
    public LockCoreMutation Mutation { get; init; } = LockCoreMutation.None;

    /// <summary>This node's sessions, so that a core can recognise a record its own node left under one of them; <see langword="null"/> where the node has none.</summary>
    public IOwnSessions? OwnSessions { get; init; }

    /// <summary>What this node's waiters have seen of other nodes' sessions, shared by its cores; <see langword="null"/>: each core reads and expires on its own.</summary>
    public SessionWatch? SessionWatch { get; init; }

    /// <summary>The timing of an acquire with the default options: one instance shared by every lock that uses it (~56 bytes each otherwise).</summary>
    public LockTiming? DefaultTiming { get; init; }

    /// <summary>
    /// Where other nodes send this node's notices (<see cref="LockFreedInput"/>): the lock manager's remote address. A
    /// waiting core registers it on the lock record so that the holder's node tells it when the lock is freed.
    /// <see langword="null"/> (no remoting): no notices, waiters poll as before.
    /// </summary>
    public string? NoticeAddress { get; init; }

    /// <summary>
    /// The refresh interval of nodes that poll, which fairness between nodes is timed by: a run of local hand-offs lasts at
    /// least two of them, and a lock released for other nodes stays free a little over one. The settings' refresh
    /// interval, even where this node polls less often because it is told of releases (<see cref="LockCoreOptions.RefreshInterval"/>
    /// is then the notice refresh interval): registered nodes are told of the release at once, and nodes without
    /// remoting still poll at this interval. Taken from the refresh interval the options are made with, so a later
    /// <c>with { RefreshInterval = ... }</c> for notices leaves it as it was.
    /// </summary>
    public TimeSpan FairnessInterval { get; init; } = RefreshInterval;

    /// <summary>How long a session-held lock is quiet before its core offers to rest (<see cref="RestOffer"/>); the idle timeout unless set.</summary>
    public TimeSpan RestAfter { get; init; } = IdleTimeout;

    /// <summary>The core options of <paramref name="settings"/>.</summary>
    public static LockCoreOptions From(DynamoLockSettings settings) =>
        new(settings.OwnerName, settings.RefreshInterval, settings.DriftAllowance, settings.MaxLocalHandOffs, settings.IdleTimeout)
        {
            DefaultTiming = settings.ResolveTiming(AcquireOptions.Default),
        };
}

/// <summary>The sessions this node (its lock manager) runs now.</summary>
internal interface IOwnSessions
{
    /// <summary>Whether <paramref name="sessionKey"/> is the key of one of this node's sessions, live now.</summary>
    bool IsLive(string sessionKey);
}

/// <summary>Where the core's record version numbers and jitter come from.</summary>
internal interface ILockCoreEntropy
{
    /// <summary>A record version number no other write uses.</summary>
    string NextRecordVersionNumber();

    /// <summary>A number in [0, 1) for jitter.</summary>
    double NextDouble();
}

/// <summary>Random UUIDs (as the Java client writes) and <see cref="Random.Shared"/>.</summary>
internal sealed class SystemEntropy : ILockCoreEntropy
{
    public static readonly SystemEntropy Instance = new();

    public string NextRecordVersionNumber() => Guid.NewGuid().ToString();

    public double NextDouble() => Random.Shared.NextDouble();
}

/// <summary>Named ways to break the protocol on purpose; the simulator must catch each.</summary>
internal enum LockCoreMutation
{
    /// <summary>The protocol as designed.</summary>
    None,

    /// <summary>A waiter takes over after the observed lease alone, without the drift allowance.</summary>
    IgnoreDriftAllowance,

    /// <summary>A waiter takes over after half the observed lease.</summary>
    TakeOverAfterHalfLease,

    /// <summary>Every retry of a write mints a new record version number (the ghost-holder bug).</summary>
    NewVersionPerRetry,

    /// <summary>A grant whose write returned after its safe deadline is used anyway.</summary>
    GrantAfterSafeDeadline,

    /// <summary>The holder counts its lease from when a write's answer arrived instead of when it was sent.</summary>
    LeaseFromAnswer,

    /// <summary>The holder keeps its lock for the whole lease, with no safety margin.</summary>
    NoSafetyMargin,

    /// <summary>A session-held grant is bound to the session live when its answer arrives, not the one its write named, and is never late.</summary>
    SessionGrantAfterDeadline,

    /// <summary>A lost session is revived (its record taken back, its generation kept) instead of replaced by a new one.</summary>
    RenewExpiredSession,

    /// <summary>A waiter treats a session-held lock like a lock heartbeated on its own (its version unchanged for a lease) and never expires the session.</summary>
    TakeOverWithoutExpiringSession,

    /// <summary>A resting core never reaches its safe deadline as its interpreter sees it, so a lost session's resting locks are never told.</summary>
    RestThroughSessionLoss,

    /// <summary>The node's shared watch of a session keeps its first sighting across versions, so a renewal does not restart the count.</summary>
    SessionWatchIgnoresVersion,

    /// <summary>A waiting core takes a notice that the lock was freed for the grant itself, without the conditional write.</summary>
    GrantOnNotice,
}
