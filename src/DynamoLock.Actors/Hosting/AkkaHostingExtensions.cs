using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Event;
using Akka.Hosting;
using Amazon.DynamoDBv2;
using Microsoft.Extensions.DependencyInjection;

namespace DynamoLock.Actors.Hosting;

/// <summary>Akka.Hosting registration of the lock manager.</summary>
public static class AkkaHostingExtensions
{
    /// <summary>The name of the lock manager actor (<c>/user/dynamolock</c>).</summary>
    public const string ManagerName = "dynamolock";

    /// <summary>
    /// Starts a <see cref="LockManager"/> named <c>dynamolock</c> with the defaults and the <c>dynamolock</c> HOCON section,
    /// and registers it as <c>IRequiredActor&lt;LockManager&gt;</c>.
    /// </summary>
    public static AkkaConfigurationBuilder WithDynamoLock(this AkkaConfigurationBuilder builder) => builder.WithDynamoLock(new DynamoLockOptions());

    /// <summary>Like <see cref="WithDynamoLock(AkkaConfigurationBuilder)"/>, with options set by <paramref name="configure"/>.</summary>
    public static AkkaConfigurationBuilder WithDynamoLock(this AkkaConfigurationBuilder builder, Action<DynamoLockOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new DynamoLockOptions();
        configure(options);
        return builder.WithDynamoLock(options);
    }

    /// <summary>
    /// Starts a <see cref="LockManager"/> named <c>dynamolock</c> configured by <paramref name="options"/> (over the
    /// <c>dynamolock</c> HOCON section and the defaults), and registers it as <c>IRequiredActor&lt;LockManager&gt;</c>.
    /// With <see cref="DynamoLockOptions.EnsureTable"/>, the table is created before the manager starts.
    /// </summary>
    public static AkkaConfigurationBuilder WithDynamoLock(this AkkaConfigurationBuilder builder, DynamoLockOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        builder.AddHocon(options.ToHocon(), HoconAddMode.Prepend);
        builder.AddHocon(DynamoLockConfig.Default, HoconAddMode.Append);
        return builder.WithActors(async (system, registry, resolver) =>
        {
            var config = system.Settings.Config.GetConfig(DynamoLockSettings.ConfigPath).WithFallback(DynamoLockConfig.Default.GetConfig(DynamoLockSettings.ConfigPath));
            var settings = DynamoLockSettings.Create(config);
            if (options.TimeProvider is { } clock)
            {
                settings = settings with { TimeProvider = clock };
            }

            var table = options.Table ?? LockTableFactory.Create(config, options.DynamoDbClient ?? TryResolve<IAmazonDynamoDB>(resolver));
            if (options.Table is null && config.GetBoolean("table.ensure-table", false))
            {
                var ensured = await table.EnsureTableAsync().ConfigureAwait(false);
                system.Log.Info("DynamoLock table '{0}' {1}.", ensured.TableName, ensured.Created ? "created" : "found");
            }

            var manager = system.ActorOf(LockManager.Props(table, settings), ManagerName);
            registry.Register<LockManager>(manager);
        });
    }

    /// <summary>
    /// Adds the DynamoDB lease (<c>akka.coordination.lease.dynamodb</c>) with its defaults, so cluster singletons, sharding
    /// and the split brain resolver can use it.
    /// </summary>
    public static AkkaConfigurationBuilder WithDynamoDbLease(this AkkaConfigurationBuilder builder) => builder.WithDynamoDbLease(new DynamoDbLeaseOption());

    /// <summary>Adds the DynamoDB lease configured by <paramref name="configure"/>.</summary>
    public static AkkaConfigurationBuilder WithDynamoDbLease(this AkkaConfigurationBuilder builder, Action<DynamoDbLeaseOption> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var option = new DynamoDbLeaseOption();
        configure(option);
        return builder.WithDynamoDbLease(option);
    }

    /// <summary>
    /// Adds the DynamoDB lease configured by <paramref name="option"/>: its HOCON over the defaults, and its client or
    /// table as a setup. Pass the same option as the cluster options' <c>LeaseImplementation</c>.
    /// </summary>
    public static AkkaConfigurationBuilder WithDynamoDbLease(this AkkaConfigurationBuilder builder, DynamoDbLeaseOption option)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(option);
        builder.AddHocon(DynamoLockConfig.Default, HoconAddMode.Append);
        option.Apply(builder);
        return builder;
    }

    /// <summary>Registers a <see cref="DynamoLockClient"/> singleton for the lock manager started by <c>WithDynamoLock</c>.</summary>
    public static IServiceCollection AddDynamoLockClient(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddSingleton(provider => new DynamoLockClient(
            provider.GetRequiredService<ActorSystem>(),
            provider.GetRequiredService<IRequiredActor<LockManager>>().ActorRef));
    }

    private static T? TryResolve<T>(IDependencyResolver resolver)
        where T : class
    {
        try
        {
            return resolver.GetService<T>();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
