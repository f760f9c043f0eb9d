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

    // The planned hand-over test: retries of a refused Acquire() 30 s apart and polls 30 s apart, so a singleton that starts
    // on the next node within seconds of the old node's release was granted within one Acquire() call, by the release's
    // notice. acquire-wait is 5 s (the default is 2 s) for slack on a loaded machine: the notice itself takes milliseconds.
    private const string HandOverLease = SteadyLease + """
        akka.cluster.singleton.lease-retry-interval = 30s
        akka.coordination.lease.dynamodb {
          lease-operation-timeout = 10s
          refresh-interval = 30s
          acquire-wait = 5s
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

    private async Task<(ActorSystem First, ControllableLockTable FirstTable, ActorSystem Second, ControllableLockTable SecondTable)> StartClusterAsync(string leaseTiming)
    {
        _nodes = new LeaseNodes(SharedTable, ClusterConfig + leaseTiming);
        var systemName = $"cluster-{Guid.NewGuid():N}"[..20];
        var (first, firstTable) = StartNode("node-1", systemName);
        var cluster1 = Akka.Cluster.Cluster.Get(first);
        await cluster1.JoinAsync(cluster1.SelfAddress);
        await WaitForAsync(() => _events.Any(e => e.Event == "started@node-1"), TimeSpan.FromSeconds(20), "the singleton on node-1");
        var (second, secondTable) = StartNode("node-2", systemName);
        await Akka.Cluster.Cluster.Get(second).JoinAsync(cluster1.SelfAddress);
        await WaitForAsync(() => cluster1.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, TimeSpan.FromSeconds(20), "two members up");
        return (first, firstTable, second, secondTable);
    }

    [Fact]
    public async Task The_singleton_runs_on_exactly_one_node_and_that_node_holds_the_lease()
    {
        var (first, _, _, _) = await StartClusterAsync(SteadyLease);

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
        var (first, firstTable, second, _) = await StartClusterAsync(ShortLease);

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

    [Fact]
    public async Task A_planned_hand_over_starts_the_singleton_on_the_next_node_as_soon_as_the_old_node_releases_the_lease()
    {
        var (first, firstTable, second, secondTable) = await StartClusterAsync(HandOverLease);
        var leaseKey = new LockKey($"{first.Name}-singleton-akka://{first.Name}/user/singleton");
        var log = new ConcurrentQueue<(long At, string Line)>();
        first.ActorOf(Props.Create(() => new LeaseLogRecorder("node-1", log)));
        second.ActorOf(Props.Create(() => new LeaseLogRecorder("node-2", log)));

        // Akka's singleton manager releases the lease as it leaves Oldest, while its singleton stops and HandOverDone goes
        // to node-2, which then calls Acquire(): the two race, and node-2 asks first when the table is slower than
        // remoting. Node-1's release write is held here so that it always does.
        firstTable.HoldReleases();
        var leaving = Stopwatch.GetTimestamp();
        var cluster1 = Akka.Cluster.Cluster.Get(first);
        cluster1.Leave(cluster1.SelfAddress);
        var registered = false;
        await WaitForAsync(
            () => firstTable.HeldReleases == 1 && (registered = SharedTable.ReadAsync(leaseKey).Result?.Waiters.Count > 0),
            TimeSpan.FromSeconds(20),
            "node-1's release held and node-2 registered as a waiter on the lease");
        Assert.True(registered);
        Assert.DoesNotContain(_events, e => e.Event == "started@node-2");

        var released = Stopwatch.GetTimestamp();
        firstTable.LetReleasesGo();
        await WaitForAsync(() => _events.Any(e => e.Event == "started@node-2"), TimeSpan.FromSeconds(25), "the singleton on node-2");

        var started = At("started@node-2");
        var afterRelease = Stopwatch.GetElapsedTime(released, started);
        output.WriteLine($"singleton stopped on node-1 {Stopwatch.GetElapsedTime(leaving, At("stopped@node-1")).TotalMilliseconds:F0} ms after the leave; node-2 registered as a waiter {Stopwatch.GetElapsedTime(leaving, released).TotalMilliseconds:F0} ms after it; the singleton started on node-2 {afterRelease.TotalMilliseconds:F0} ms after node-1's release write was let go (lease-retry-interval 30 s, refresh-interval 30 s)");
        output.WriteLine($"node-2's table calls: {secondTable["TryAcquire"]} acquire writes, {secondTable["AddWaiter"]} waiter registrations, {secondTable["Read"]} reads");
        foreach (var (at, line) in log.OrderBy(l => l.At))
        {
            output.WriteLine($"{Stopwatch.GetElapsedTime(leaving, at).TotalMilliseconds,7:F0} ms  {line}");
        }

        Assert.True(At("stopped@node-1") < started, "the old singleton must stop before the new one starts");
        Assert.True(afterRelease < TimeSpan.FromSeconds(4), $"the singleton started on node-2 {afterRelease} after the release: not within its Acquire() call's wait");
        Assert.Equal(1, _events.Count(e => e.Event == "started@node-2"));
    }

    /// <summary>Records the singleton managers' lease lines (Akka's INFO log) with their time, to show the hand-over's order.</summary>
    private sealed class LeaseLogRecorder : ReceiveActor
    {
        public LeaseLogRecorder(string label, ConcurrentQueue<(long At, string Line)> log)
        {
            Receive<Akka.Event.Info>(info =>
            {
                var text = info.Message?.ToString() ?? string.Empty;
                if (text.Contains("lease", StringComparison.OrdinalIgnoreCase) || text.Contains("hand-over", StringComparison.OrdinalIgnoreCase) || text.Contains("HandOver", StringComparison.Ordinal))
                {
                    log.Enqueue((Stopwatch.GetTimestamp(), $"{label}: {text}"));
                }
            });
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(Akka.Event.Info));
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
