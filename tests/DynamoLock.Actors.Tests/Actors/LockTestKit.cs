using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using DynamoLock.Actors.Table;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>A TestKit with helpers to start lock managers, here and in further actor systems (the "nodes" of a test).</summary>
public abstract class LockTestKit : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config TestConfig = ConfigurationFactory.ParseString("""
        akka.loglevel = INFO
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        akka.test.timefactor = 2
        """);

    private readonly List<ActorSystem> _nodes = [];

    protected LockTestKit(ITestOutputHelper output)
        : base(TestConfig, output: output)
    {
    }

    /// <summary>
    /// Fast timing for tests: lease 2 s, heartbeat 400 ms, refresh 100 ms, drift 200 ms, and a safety margin of 800 ms so
    /// that a loaded 2-core machine's late timers do not blur the order of a loss and a takeover.
    /// </summary>
    internal static DynamoLockSettings FastSettings(string owner) => new()
    {
        OwnerName = owner,
        LeaseDuration = TimeSpan.FromSeconds(2),
        HeartbeatInterval = TimeSpan.FromMilliseconds(400),
        SafetyMargin = TimeSpan.FromMilliseconds(800),
        RefreshInterval = TimeSpan.FromMilliseconds(100),
        DriftAllowance = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>A lock manager in this test's actor system.</summary>
    protected IActorRef StartManager(ILockTable table, DynamoLockSettings settings) => Sys.ActorOf(LockManager.Props(table, settings));

    /// <summary>Another actor system, shut down with the test; <paramref name="config"/> goes over the test's configuration.</summary>
    protected ActorSystem StartNode(string name, string? config = null)
    {
        var baseConfig = TestConfig.WithFallback(Sys.Settings.Config);
        var node = ActorSystem.Create(name, config is null ? baseConfig : ConfigurationFactory.ParseString(config).WithFallback(baseConfig));
        _nodes.Add(node);
        return node;
    }

    /// <summary>A probe living in <paramref name="node"/>.</summary>
    protected TestProbe ProbeIn(ActorSystem node, string? name = null) => CreateTestProbe(node, name);

    protected override void AfterAll()
    {
        foreach (var node in _nodes)
        {
            node.Terminate().Wait(TimeSpan.FromSeconds(15));
        }

        base.AfterAll();
    }
}
