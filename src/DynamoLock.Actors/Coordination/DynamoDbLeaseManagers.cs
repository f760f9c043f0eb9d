using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Coordination;
using DynamoLock.Actors.Hosting;

namespace DynamoLock.Actors.Coordination;

/// <summary>
/// One <see cref="LockManager"/> per lease owner and table in an actor system, shared by all the
/// <see cref="DynamoDbLease"/> instances that Akka's LeaseProvider creates (one per lease name).
/// </summary>
internal sealed class DynamoDbLeaseManagers : IExtension
{
    private readonly ExtendedActorSystem _system;
    private readonly ConcurrentDictionary<string, Lazy<IActorRef>> _managers = new(StringComparer.Ordinal);
    private int _counter;

    public DynamoDbLeaseManagers(ExtendedActorSystem system) => _system = system;

    public static DynamoDbLeaseManagers Get(ActorSystem system) => system.WithExtension<DynamoDbLeaseManagers, DynamoDbLeaseManagersProvider>();

    /// <summary>The lock manager for the lease's owner, timing and table, started on first use.</summary>
    public IActorRef ManagerFor(LeaseSettings lease)
    {
        var config = lease.LeaseConfig;
        var timeouts = lease.TimeoutSettings;
        var table = config.GetConfig("table") ?? Config.Empty;
        var identity = string.Join('|', lease.OwnerName, timeouts.HeartbeatTimeout, timeouts.HeartbeatInterval, table.GetString("store", ""), table.GetString("name", ""), table.GetString("service-url", ""), UsesSessions(config));
        return _managers.GetOrAdd(identity, _ => new Lazy<IActorRef>(() => Start(lease))).Value;
    }

    private static bool UsesSessions(Config config) => config.HasPath("session") && config.GetBoolean("session");

    private IActorRef Start(LeaseSettings lease)
    {
        var config = lease.LeaseConfig;
        var setup = _system.Settings.Setup.Get<DynamoDbLeaseSetup>();
        var lockTable = setup.HasValue && setup.Value.Table is { } given
            ? given
            : LockTableFactory.Create(config.WithFallback(DynamoLockConfig.Default.GetConfig(DynamoDbLease.ConfigPath)), setup.HasValue ? setup.Value.Client : null);
        TimeSpan? Optional(string path) => config.HasPath(path) && !string.IsNullOrWhiteSpace(config.GetString(path)) ? config.GetTimeSpan(path) : null;
        var settings = new DynamoLockSettings
        {
            OwnerName = lease.OwnerName,
            LeaseDuration = lease.TimeoutSettings.HeartbeatTimeout,
            HeartbeatInterval = lease.TimeoutSettings.HeartbeatInterval,
            RefreshInterval = Optional("refresh-interval") ?? TimeSpan.FromSeconds(1),
            DriftAllowance = Optional("drift-allowance") ?? TimeSpan.FromMilliseconds(500),
            SafetyMargin = Optional("safety-margin"),
            UseSessions = UsesSessions(config),

            // A lease is one holder per node and name: hand-offs between local requesters do not happen.
            MaxLocalHandOffs = 0,

            // Singletons and shards hand over (and release their leases) in the cluster's shutdown phases; only what is
            // still held after those is released, at the very end.
            ShutdownPhase = CoordinatedShutdown.PhaseBeforeActorSystemTerminate,

            // Lease users retry Acquire() every few seconds and rely on the observation the lock actor keeps between
            // attempts; it must outlive a heartbeat-timeout of retries.
            IdleTimeout = lease.TimeoutSettings.HeartbeatTimeout * 3,
        };
        return _system.SystemActorOf(LockManager.Props(lockTable, settings), $"dynamodb-lease-{Interlocked.Increment(ref _counter)}");
    }
}

internal sealed class DynamoDbLeaseManagersProvider : ExtensionIdProvider<DynamoDbLeaseManagers>
{
    public override DynamoDbLeaseManagers CreateExtension(ExtendedActorSystem system) => new(system);
}
