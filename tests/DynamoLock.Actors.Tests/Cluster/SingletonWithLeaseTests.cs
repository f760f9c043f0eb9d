using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Cluster;

/// <summary>
/// A real Akka.Cluster of two nodes on 127.0.0.1 running a cluster singleton gated on the DynamoDB lease: the singleton
/// runs on one node only while it holds the lease, stops when its node loses the lease, and starts elsewhere only after
/// the new node holds the lease.
/// </summary>
public abstract class SingletonWithLeaseScenarios(ITestOutputHelper output) : IDisposable
{
    private const string ClusterConfig = """
        akka.loglevel = INFO
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.cluster.downing-provider-class = ""
        akka.cluster.singleton.use-lease = "akka.coordination.lease.dynamodb"
        akka.cluster.singleton.lease-retry-interval = 200ms
        akka.coordination.lease.dynamodb {
          lease-operation-timeout = 3s
          refresh-interval = 100ms
          drift-allowance = 200ms
        }
        """;

    // The partition test measures the loss and the failover against the lease, so it runs on a short one: 2 s with an
    // 800 ms safety margin, which leaves 1.2 s of safe time after each heartbeat is sent.
    private const string ShortLease = """
        akka.coordination.lease.dynamodb {
          heartbeat-timeout = 2s
          heartbeat-interval = 400ms
          safety-margin = 800ms
        }
        """;

    // The steady-state test asserts that the singleton is never stopped while both nodes start and join, which on a
    // loaded 2-core machine (other test classes run in parallel) can stall the thread pool for over a second. With the
    // short lease's 1.2 s of safe time that cost node-1 the lease: 1 of 10 whole-suite runs, and 1 of 4 runs of this
    // class next to four CPU burners, where the heartbeat due 400 ms after the last one had not been sent 1.2 s later.
    // A 20 s lease with a 4 s margin leaves 16 s of safe time; heartbeats still run every 400 ms.
    private const string SteadyLease = """
        akka.coordination.lease.dynamodb {
          heartbeat-timeout = 20s
          heartbeat-interval = 400ms
          safety-margin = 4s
        }
        """;

    private readonly ConcurrentQueue<(long At, string Event)> _events = new();
    private LeaseNodes? _nodes;

    protected abstract ILockTable SharedTable { get; }

    private LeaseNodes Nodes => _nodes ?? throw new InvalidOperationException("StartClusterAsync chooses the lease timing first.");

    public void Dispose()
    {
        _nodes?.Dispose();
        GC.SuppressFinalize(this);
    }

    private (ActorSystem Node, ControllableLockTable Table) StartNode(string label, string systemName)
    {
        var (node, table) = Nodes.Start(systemName);
        node.ActorOf(
            ClusterSingletonManager.Props(
                Props.Create(() => new ReportingSingleton(label, _events)),
                PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(node)),
            "singleton");
        return (node, table);
    }

    private async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(deadline) < timeout, $"timed out waiting for {what}; events: {string.Join(", ", _events.Select(e => e.Event))}");
            await Task.Delay(50);
        }
    }

    private long At(string @event) => _events.First(e => e.Event == @event).At;

    private async Task<(ActorSystem First, ControllableLockTable FirstTable, ActorSystem Second)> StartClusterAsync(string leaseTiming)
    {
        _nodes = new LeaseNodes(SharedTable, ClusterConfig + leaseTiming);
        var systemName = $"cluster-{Guid.NewGuid():N}"[..20];
        var (first, firstTable) = StartNode("node-1", systemName);
        var cluster1 = Akka.Cluster.Cluster.Get(first);
        await cluster1.JoinAsync(cluster1.SelfAddress);
        await WaitForAsync(() => _events.Any(e => e.Event == "started@node-1"), TimeSpan.FromSeconds(20), "the singleton on node-1");
        var (second, _) = StartNode("node-2", systemName);
        await Akka.Cluster.Cluster.Get(second).JoinAsync(cluster1.SelfAddress);
        await WaitForAsync(() => cluster1.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, TimeSpan.FromSeconds(20), "two members up");
        return (first, firstTable, second);
    }

    [Fact]
    public async Task The_singleton_runs_on_exactly_one_node_and_that_node_holds_the_lease()
    {
        var (first, _, _) = await StartClusterAsync(SteadyLease);

        var leaseName = $"{first.Name}-singleton-akka://{first.Name}/user/singleton";
        var record = await SharedTable.ReadAsync(new LockKey(leaseName));

        Assert.Equal(["started@node-1"], _events.Select(e => e.Event));
        Assert.NotNull(record);
        Assert.Equal(Akka.Cluster.Cluster.Get(first).SelfAddress.HostPort(), record.OwnerName);
        Assert.False(record.IsReleased);
    }

    [Fact]
    public async Task A_partitioned_node_stops_its_singleton_before_the_lease_can_be_taken_and_the_singleton_moves_after_the_lease()
    {
        var (first, firstTable, second) = await StartClusterAsync(ShortLease);

        // node-1 is cut off from the table: it must stop its singleton when it gives the lease up, before anyone could take it.
        firstTable.Partitioned = true;
        var partitioned = Stopwatch.GetTimestamp();
        await WaitForAsync(() => _events.Any(e => e.Event == "stopped@node-1"), TimeSpan.FromSeconds(10), "node-1 stopping its singleton");
        var stopped = At("stopped@node-1");

        // Then the cluster downs node-1: node-2 becomes the oldest and asks for the lease until it may take it over.
        Akka.Cluster.Cluster.Get(second).Down(Akka.Cluster.Cluster.Get(first).SelfAddress);
        await WaitForAsync(() => _events.Any(e => e.Event == "started@node-2"), TimeSpan.FromSeconds(30), "the singleton on node-2");

        var started = At("started@node-2");
        var lossAfter = Stopwatch.GetElapsedTime(partitioned, stopped);
        var failover = Stopwatch.GetElapsedTime(partitioned, started);
        output.WriteLine($"singleton stopped on node-1 {lossAfter.TotalMilliseconds:F0} ms and started on node-2 {failover.TotalMilliseconds:F0} ms after the partition (lease 2000 ms, heartbeat 400 ms)");
        Assert.True(lossAfter < TimeSpan.FromSeconds(2), $"node-1 kept its singleton for {lossAfter}, past its lease");
        Assert.True(stopped < started, "the old singleton must stop before the new one starts");
        Assert.True(failover >= TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(400), $"node-2 started the singleton after {failover}, before node-1's lease could have run out");
        Assert.Equal(1, _events.Count(e => e.Event == "started@node-1"));
        Assert.Equal(1, _events.Count(e => e.Event == "started@node-2"));
    }

    private sealed class ReportingSingleton : ReceiveActor
    {
        private readonly string _label;
        private readonly ConcurrentQueue<(long At, string Event)> _events;

        public ReportingSingleton(string label, ConcurrentQueue<(long At, string Event)> events)
        {
            _label = label;
            _events = events;
            ReceiveAny(_ => { });
        }

        protected override void PreStart() => _events.Enqueue((Stopwatch.GetTimestamp(), $"started@{_label}"));

        protected override void PostStop() => _events.Enqueue((Stopwatch.GetTimestamp(), $"stopped@{_label}"));
    }
}

public sealed class InMemorySingletonWithLeaseTests(ITestOutputHelper output) : SingletonWithLeaseScenarios(output)
{
    private static readonly InMemoryLockTable Table = new();

    protected override ILockTable SharedTable => Table;
}

[Trait("Category", "DynamoDB")]
public sealed class DynamoDbSingletonWithLeaseTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : SingletonWithLeaseScenarios(output), IClassFixture<DynamoDbTableFixture>
{
    protected override ILockTable SharedTable => fixture.Table;
}
