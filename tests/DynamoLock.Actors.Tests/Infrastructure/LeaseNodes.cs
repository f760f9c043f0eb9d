using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using DynamoLock.Actors.Coordination;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>
/// Actor systems whose DynamoDB lease runs on a shared table, each through its own <see cref="ControllableLockTable"/>
/// (so a test can cut one node off), terminated on dispose.
/// </summary>
public sealed class LeaseNodes(ILockTable sharedTable, string hocon) : IDisposable
{
    private readonly List<ActorSystem> _systems = [];

    /// <summary>Starts a node named <paramref name="systemName"/>.</summary>
    public (ActorSystem System, ControllableLockTable Table) Start(string systemName)
    {
        var table = new ControllableLockTable(sharedTable);
        var config = ConfigurationFactory.ParseString(hocon).WithFallback(DynamoLockConfig.Default);
        var system = ActorSystem.Create(systemName, BootstrapSetup.Create().WithConfig(config).And(new DynamoDbLeaseSetup { Table = table }));
        lock (_systems)
        {
            _systems.Add(system);
        }

        return (system, table);
    }

    public void Dispose()
    {
        lock (_systems)
        {
            foreach (var system in _systems)
            {
                system.Terminate().Wait(TimeSpan.FromSeconds(15));
            }
        }
    }
}
