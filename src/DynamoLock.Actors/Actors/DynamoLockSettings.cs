using System.Globalization;
using Akka.Configuration;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>
/// The lock timing and identity a <see cref="LockManager"/> uses. Defaults follow the Java lock client: lease 20 s,
/// heartbeat 5 s, refresh 1 s. Read from HOCON under <c>dynamolock</c> with <see cref="Create(Config)"/>.
/// </summary>
public sealed record DynamoLockSettings
{
    /// <summary>The HOCON section these settings are read from.</summary>
    public const string ConfigPath = "dynamolock";

    /// <summary>This node's identity in the lock table. Default: host name, process id and a random suffix.</summary>
    public string OwnerName { get; init; } = DefaultOwnerName();

    /// <summary>How long a lock stays valid without a heartbeat. Default 20 s.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a held lock is renewed; less than half the lease. Default 5 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a waiter re-reads a lock held elsewhere: at most this long apart (jittered down to 80 %). Default 1 s.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a waiter re-reads a lock held elsewhere when notices are on (the actor system has remoting): the holder's
    /// node tells it when the lock is freed, so polling is only the fallback for lost notices, holders without remoting
    /// and crashed holders. Never shorter than <see cref="RefreshInterval"/>. Default 6 s: six times fewer reads per
    /// waiting key than the 1 s default, for about 3 s more on average before a lost notice or a crashed holder is noticed.
    /// </summary>
    public TimeSpan NoticeRefreshInterval { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>The refresh interval in force: <see cref="NoticeRefreshInterval"/> (at least <see cref="RefreshInterval"/>) with notices, else <see cref="RefreshInterval"/>.</summary>
    internal TimeSpan RefreshIntervalWith(bool notices) =>
        notices && NoticeRefreshInterval > RefreshInterval ? NoticeRefreshInterval : RefreshInterval;

    /// <summary>
    /// How long before the end of its lease a holder gives the lock up when no heartbeat succeeded, so its
    /// <see cref="LockLost"/> arrives while no one else can hold the lock yet. Default: a fifth of the lease.
    /// </summary>
    public TimeSpan? SafetyMargin { get; init; }

    /// <summary>
    /// Added to the lease a waiter watches a record unchanged before taking it over, to cover clock-rate drift
    /// between machines. Default 500 ms.
    /// </summary>
    public TimeSpan DriftAllowance { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How many times in a row a lock passes between requesters on this node (one write each) before it is released
    /// so that other nodes get a turn; a run also lasts at least two refresh intervals, so that a hot lock is not left
    /// idle most of the time. 0 releases every time. Default 10.
    /// </summary>
    public int MaxLocalHandOffs { get; init; } = 10;

    /// <summary>How long a lock actor with nothing to do lives before it stops; in session mode also how long a held lock is quiet before it rests (its actor goes, the manager keeps its state). Default 30 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long CoordinatedShutdown waits for held locks to be released; keep it under the phase's timeout (5 s by default). Default 4 s.</summary>
    public TimeSpan ShutdownReleaseTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// The CoordinatedShutdown phase in which held locks are released. Default <c>service-stop</c>; leases for cluster
    /// singletons and sharding use <c>before-actor-system-terminate</c>, after the cluster's own hand-over phases.
    /// </summary>
    public string ShutdownPhase { get; init; } = Akka.Actor.CoordinatedShutdown.PhaseServiceStop;

    /// <summary>
    /// Holds locks under sessions (see <c>docs/sessions.md</c>): the node heartbeats one session record per lease duration
    /// for all the locks it holds, instead of each lock on its own; acquire and release stay one write each, and a waiter
    /// elsewhere takes over a dead node's locks after expiring its session. Not interoperable with lock clients that
    /// know nothing of sessions (awslabs' Java client) on the same keys. <see cref="AcquireOptions.UseSession"/> decides
    /// per acquire. Fail-closed locks are never held under a session. Default: off.
    /// </summary>
    public bool UseSessions { get; init; }

    /// <summary>The monotonic clock for leases and waits. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>An owner name unique to this process: host name, process id and a random suffix.</summary>
    public static string DefaultOwnerName() =>
        $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Reads settings from a <c>dynamolock</c> HOCON section; missing keys keep their defaults.</summary>
    public static DynamoLockSettings Create(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var defaults = new DynamoLockSettings();
        TimeSpan? Duration(string path) => config.HasPath(path) && !string.IsNullOrWhiteSpace(config.GetString(path)) ? config.GetTimeSpan(path) : null;
        return new DynamoLockSettings
        {
            OwnerName = config.GetString("owner-name", string.Empty) is { Length: > 0 } owner ? owner : defaults.OwnerName,
            LeaseDuration = Duration("lease-duration") ?? defaults.LeaseDuration,
            HeartbeatInterval = Duration("heartbeat-interval") ?? defaults.HeartbeatInterval,
            RefreshInterval = Duration("refresh-interval") ?? defaults.RefreshInterval,
            NoticeRefreshInterval = Duration("notice-refresh-interval") ?? defaults.NoticeRefreshInterval,
            SafetyMargin = Duration("safety-margin"),
            DriftAllowance = Duration("drift-allowance") ?? defaults.DriftAllowance,
            MaxLocalHandOffs = config.GetInt("max-local-hand-offs", defaults.MaxLocalHandOffs),
            UseSessions = config.GetBoolean("use-sessions", defaults.UseSessions),
            IdleTimeout = Duration("idle-timeout") ?? defaults.IdleTimeout,
            ShutdownReleaseTimeout = Duration("shutdown-release-timeout") ?? defaults.ShutdownReleaseTimeout,
            ShutdownPhase = config.GetString("shutdown-phase", string.Empty) is { Length: > 0 } phase ? phase : defaults.ShutdownPhase,
        }.Validate();
    }

    /// <summary>Checks the settings, naming the one that is wrong.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public DynamoLockSettings Validate()
    {
        LockValidation.OwnerName(OwnerName, nameof(OwnerName));
        Positive(RefreshInterval, nameof(RefreshInterval));
        Positive(NoticeRefreshInterval, nameof(NoticeRefreshInterval));
        Positive(IdleTimeout, nameof(IdleTimeout));
        Positive(ShutdownReleaseTimeout, nameof(ShutdownReleaseTimeout));
        if (DriftAllowance < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DriftAllowance), DriftAllowance, $"DriftAllowance must not be negative (got {Format(DriftAllowance)}).");
        }

        if (MaxLocalHandOffs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLocalHandOffs), MaxLocalHandOffs, $"MaxLocalHandOffs must not be negative (got {MaxLocalHandOffs}).");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        _ = ResolveTiming(AcquireOptions.Default);
        return this;
    }

    /// <summary>The lease, heartbeat and safety margin one acquisition uses, checked against each other.</summary>
    /// <exception cref="ArgumentException">The combination is invalid; the message names the setting.</exception>
    internal LockTiming ResolveTiming(AcquireOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.WaitTimeout < TimeSpan.Zero && options.WaitTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options.WaitTimeout), options.WaitTimeout, $"WaitTimeout must be zero (try once), positive, or Timeout.InfiniteTimeSpan (got {Format(options.WaitTimeout)}).");
        }

        LockValidation.Data(options.Data, nameof(options.Data));
        if (options.FailClosed)
        {
            return new LockTiming(null, null, TimeSpan.Zero);
        }

        var leaseName = options.LeaseDuration is null ? nameof(LeaseDuration) : "AcquireOptions.LeaseDuration";
        var lease = LockValidation.LeaseDuration(options.LeaseDuration ?? LeaseDuration, leaseName)!.Value;
        var heartbeat = options.HeartbeatInterval ?? (options.LeaseDuration is { } own ? own / 4 : HeartbeatInterval);
        var heartbeatName = options.HeartbeatInterval is null && options.LeaseDuration is null ? nameof(HeartbeatInterval) : "AcquireOptions.HeartbeatInterval";
        Positive(heartbeat, heartbeatName);
        if (heartbeat * 2 >= lease)
        {
            throw new ArgumentOutOfRangeException(heartbeatName, heartbeat, $"{heartbeatName} ({Format(heartbeat)}) must be less than half of {leaseName} ({Format(lease)}), so that a missed heartbeat can be retried before the lease ends.");
        }

        var margin = SafetyMargin ?? lease / 5;
        if (margin <= TimeSpan.Zero || margin >= lease)
        {
            // Zero would leave the holder's LockLost racing a competitor's takeover by no more than one round trip.
            throw new ArgumentOutOfRangeException(nameof(SafetyMargin), margin, $"SafetyMargin ({Format(margin)}) must be positive and less than {leaseName} ({Format(lease)}).");
        }

        if (heartbeat >= lease - margin)
        {
            throw new ArgumentOutOfRangeException(nameof(SafetyMargin), margin, $"SafetyMargin ({Format(margin)}) leaves no time for a heartbeat: {leaseName} ({Format(lease)}) minus SafetyMargin must exceed {heartbeatName} ({Format(heartbeat)}).");
        }

        return new LockTiming(lease, heartbeat, margin);
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive (got {Format(value)}).");
        }
    }

    private static string Format(TimeSpan value) => HumanText.Duration(value);
}

/// <summary>The lease timing of one acquisition.</summary>
/// <param name="LeaseDuration">The lease; <see langword="null"/> for a fail-closed lock.</param>
/// <param name="HeartbeatInterval">The heartbeat period; <see langword="null"/> for a fail-closed lock.</param>
/// <param name="SafetyMargin">How long before the lease ends the holder gives up without a successful heartbeat.</param>
internal sealed record LockTiming(TimeSpan? LeaseDuration, TimeSpan? HeartbeatInterval, TimeSpan SafetyMargin)
{
    /// <summary>Whether an acquire with <paramref name="options"/> and this timing is held under a session, given <paramref name="settings"/>.</summary>
    public bool UsesSession(AcquireOptions options, DynamoLockSettings settings) => LeaseDuration is not null && (options.UseSession ?? settings.UseSessions);

    /// <summary>How long after sending its last successful write the holder may still trust its lock.</summary>
    public TimeSpan? SafeDuration => LeaseDuration - SafetyMargin;
}
