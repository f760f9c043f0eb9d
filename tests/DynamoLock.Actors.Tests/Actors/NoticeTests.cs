using Akka.Actor;
using Akka.TestKit;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// Notices between nodes (issue 16, docs/notices.md), the actors' part: a manager's notice address, <see cref="LockFreed"/>
/// sent over Akka.Remote on loopback to the managers the core names, and delivered to the lock actor that waits for the
/// key. What the core does with the notice is the core's tests' business.
/// </summary>
public sealed class NoticeTests(ITestOutputHelper output) : LockTestKit(output)
{
    private const string Remoting = """
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        """;

    private static readonly AcquireOptions WaitForever = AcquireOptions.Wait(Timeout.InfiniteTimeSpan);

    private readonly InMemoryLockTable _table = new();

    private static string NewKey() => $"notice/{Guid.NewGuid():N}";

    private static Address AddressOf(ActorSystem node) => ((ExtendedActorSystem)node).Provider.DefaultAddress;

    private static string ManagerAddress(ActorSystem node) => $"{AddressOf(node)}/user/locks";

    private (ActorSystem Node, IActorRef Manager) StartRemoteNode(string name)
    {
        var node = StartNode(name, Remoting);
        return (node, node.ActorOf(LockManager.Props(_table, FastSettings(name)), "locks"));
    }

    private static async Task<IEnumerable<LockInfo>> LocksOf(IActorRef manager, string key) =>
        (await manager.Ask<LockStatusReport>(new GetLockStatus(key))).Locks;

    /// <summary>Node 1 holds <paramref name="key"/> and node 2 waits for it.</summary>
    private void HoldOnOneWaitOnTwo(ActorSystem node1, IActorRef manager1, ActorSystem node2, IActorRef manager2, string key)
    {
        var holder = ProbeIn(node1);
        manager1.Tell(new Acquire(key), holder.Ref);
        holder.ExpectMsg<LockAcquired>();
        manager2.Tell(new Acquire(key, WaitForever), ProbeIn(node2).Ref);
        AwaitAssert(() => Assert.Equal(LockState.Waiting, manager2.Ask<LockStatusReport>(new GetLockStatus(key)).Result.Locks.Single().State));
    }

    [Fact]
    public void Without_remoting_a_manager_has_no_notice_address()
    {
        var manager = ActorOfAsTestActorRef<LockManager>(LockManager.Props(_table, FastSettings("local")));

        Assert.Null(manager.UnderlyingActor.NoticeAddress);
        Assert.Equal(FastSettings("local").RefreshInterval, manager.UnderlyingActor.RefreshInterval);
    }

    [Fact]
    public void With_remoting_waiters_poll_at_the_notice_refresh_interval_never_faster_than_the_refresh_interval()
    {
        var node = StartNode("refresh", Remoting);
        TimeSpan RefreshOf(DynamoLockSettings settings) =>
            new TestActorRef<LockManager>(node, LockManager.Props(_table, settings)).UnderlyingActor.RefreshInterval;

        Assert.Equal(TimeSpan.FromSeconds(6), RefreshOf(new DynamoLockSettings()));
        Assert.Equal(TimeSpan.FromSeconds(2), RefreshOf(new DynamoLockSettings { NoticeRefreshInterval = TimeSpan.FromSeconds(2) }));
        Assert.Equal(TimeSpan.FromSeconds(10), RefreshOf(new DynamoLockSettings { RefreshInterval = TimeSpan.FromSeconds(10) }));
    }

    [Fact]
    public void With_remoting_the_notice_address_is_the_managers_path_at_the_systems_remote_address()
    {
        var node = StartNode("sys", Remoting);
        var manager = new TestActorRef<LockManager>(node, LockManager.Props(_table, FastSettings("remote")), null, "locks");

        var port = AddressOf(node).Port;
        Assert.True(port > 0);
        Assert.Equal($"akka.tcp://sys@127.0.0.1:{port}/user/locks", manager.UnderlyingActor.NoticeAddress);
    }

    [Fact]
    public void LockFreed_round_trips_through_the_default_serializer()
    {
        var node = StartNode("serializing", Remoting);
        var notice = new LockFreed("orders/42 ünïcode");

        var serializer = node.Serialization.FindSerializerFor(notice);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, notice);
        var back = node.Serialization.Deserialize(serializer.ToBinary(notice), serializer.Identifier, manifest);

        Assert.Equal(notice, back);
    }

    [Fact]
    public async Task A_LockFreed_from_another_node_reaches_the_lock_actor_waiting_for_the_key()
    {
        var (node1, manager1) = StartRemoteNode("notice-a-1");
        var (node2, manager2) = StartRemoteNode("notice-a-2");
        var key = NewKey();
        HoldOnOneWaitOnTwo(node1, manager1, node2, manager2, key);
        using var received = new CounterListener("dynamolock.notices_received", "notice-a-2");

        node1.ActorSelection(ManagerAddress(node2)).Tell(new LockFreed(key));

        AwaitAssert(() => Assert.Equal(1, received.Total));

        // The lock is still held on node 1: the notice costs node 2 one refused write, and it waits on.
        await AwaitAssertAsync(async () => Assert.Equal(LockState.Waiting, (await LocksOf(manager2, key)).Single().State));
        Assert.Equal(LockState.Held, (await LocksOf(manager1, key)).Single().State);
    }

    [Fact]
    public async Task A_LockFreed_for_a_key_without_a_lock_actor_or_a_malformed_key_is_ignored()
    {
        var (node1, manager1) = StartRemoteNode("notice-b-1");
        var (node2, manager2) = StartRemoteNode("notice-b-2");
        var key = NewKey();
        var unknown = NewKey();
        HoldOnOneWaitOnTwo(node1, manager1, node2, manager2, key);
        using var received = new CounterListener("dynamolock.notices_received", "notice-b-2");

        var selection = node1.ActorSelection(ManagerAddress(node2));
        selection.Tell(new LockFreed(unknown));
        selection.Tell(new LockFreed(""));
        selection.Tell(new LockFreed(null!));
        selection.Tell(new LockFreed(new string('k', LockKey.MaxKeyBytes + 1)));
        selection.Tell(new LockFreed(LockSessions.KeyPrefix + "node-1"));

        // From one sender over one connection, in order: once this one arrived, the others were handled.
        selection.Tell(new LockFreed(key));
        AwaitAssert(() => Assert.Equal(1, received.Total));

        Assert.Empty(await LocksOf(manager2, unknown));
        await AwaitAssertAsync(async () => Assert.Equal(LockState.Waiting, (await LocksOf(manager2, key)).Single().State));
    }

    [Fact]
    public async Task NotifyWaiters_sends_LockFreed_to_each_other_node_and_skips_its_own_and_malformed_addresses()
    {
        var (node1, manager1) = StartRemoteNode("notice-c-1");
        var (node2, manager2) = StartRemoteNode("notice-c-2");
        var key = NewKey();
        HoldOnOneWaitOnTwo(node1, manager1, node2, manager2, key);
        var elsewhere = ProbeIn(node2);
        using var sent = new CounterListener("dynamolock.notices_sent", "notice-c-1");
        using var received = new CounterListener("dynamolock.notices_received", "notice-c-2");

        manager1.Tell(new NotifyWaitersNotice(key, [
            ManagerAddress(node1),
            "not an actor path",
            "lock-1",
            ManagerAddress(node2),
            elsewhere.Ref.Path.ToStringWithAddress(AddressOf(node2)),
        ]));

        Assert.Equal(new LockFreed(key), elsewhere.ExpectMsg<LockFreed>());
        AwaitAssert(() => Assert.Equal(1, received.Total));
        AwaitAssert(() => Assert.Equal(2, sent.Total));

        // Node 1's manager carries on: its holder still holds.
        Assert.Equal(LockState.Held, (await LocksOf(manager1, key)).Single().State);
    }

    /// <summary>Polling every 30 s (and a lease of a minute): a grant within seconds can only have come from a notice.</summary>
    private static DynamoLockSettings SlowPolling(string owner) => FastSettings(owner) with
    {
        LeaseDuration = TimeSpan.FromMinutes(1),
        HeartbeatInterval = TimeSpan.FromSeconds(10),
        SafetyMargin = TimeSpan.FromSeconds(20),
        RefreshInterval = TimeSpan.FromSeconds(30),
    };

    private async Task AwaitRegisteredAsync(string key, int waiters) =>
        await AwaitAssertAsync(async () => Assert.Equal(waiters, (await _table.ReadAsync(new LockKey(key)))!.Waiters.Count));

    /// <summary>Node 1 holds <paramref name="key"/>; node 2 waits for it and is registered on the record.</summary>
    private async Task<(TestProbe Holder, LockAcquired Held, TestProbe Waiter)> HoldAndAwaitWaiterAsync(ActorSystem node1, IActorRef manager1, ActorSystem node2, IActorRef manager2, string key)
    {
        var holder = ProbeIn(node1);
        manager1.Tell(new Acquire(key), holder.Ref);
        var held = holder.ExpectMsg<LockAcquired>();
        var waiter = ProbeIn(node2);
        manager2.Tell(new Acquire(key, WaitForever), waiter.Ref);
        await AwaitRegisteredAsync(key, 1);
        return (holder, held, waiter);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_release_on_one_node_reaches_the_waiters_on_the_others_at_once_and_one_gets_it(int nodes)
    {
        var key = NewKey();
        var managers = Enumerable.Range(1, nodes)
            .Select(i => StartNode($"handoff-{nodes}-{i}", Remoting))
            .Select((node, i) => (Node: node, Manager: node.ActorOf(LockManager.Props(_table, SlowPolling($"handoff-{nodes}-{i + 1}")), "locks")))
            .ToList();
        var holder = ProbeIn(managers[0].Node);
        managers[0].Manager.Tell(new Acquire(key), holder.Ref);
        var first = holder.ExpectMsg<LockAcquired>();
        var waiters = managers.Skip(1).Select(m => (m.Manager, Probe: ProbeIn(m.Node))).ToList();
        foreach (var (manager, probe) in waiters)
        {
            manager.Tell(new Acquire(key, WaitForever), probe.Ref);
        }

        await AwaitRegisteredAsync(key, nodes - 1);
        managers[0].Manager.Tell(new Release(key), holder.Ref);
        holder.ExpectMsg<LockReleased>();

        // Within seconds, not at the next poll (24 to 30 s away): exactly one waiter is granted, with the next token.
        var granted = await Task.WhenAny(waiters.Select(w => Task.Run(() => (w.Probe, Acquired: w.Probe.ExpectMsg<LockAcquired>(TimeSpan.FromSeconds(10))))));
        var (winner, acquired) = await granted;
        Assert.Equal(first.FencingToken + 1, acquired.FencingToken);
        foreach (var (_, probe) in waiters.Where(w => w.Probe != winner))
        {
            probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        }
    }

    [Fact]
    public async Task A_node_that_lost_the_race_for_a_freed_lock_is_told_when_the_winner_releases()
    {
        // The release takes every waiter off the record; the loser must register again on the winner's record, or it
        // would wait for its next poll (24 to 30 s away here) while the others pass the lock between themselves.
        var key = NewKey();
        var nodes = Enumerable.Range(1, 3)
            .Select(i => StartNode($"race-{i}", Remoting))
            .Select((node, i) => (Node: node, Manager: node.ActorOf(LockManager.Props(_table, SlowPolling($"race-{i + 1}")), "locks"), Probe: ProbeIn(node)))
            .ToList();
        nodes[0].Manager.Tell(new Acquire(key), nodes[0].Probe.Ref);
        nodes[0].Probe.ExpectMsg<LockAcquired>();
        nodes[1].Manager.Tell(new Acquire(key, WaitForever), nodes[1].Probe.Ref);
        nodes[2].Manager.Tell(new Acquire(key, WaitForever), nodes[2].Probe.Ref);
        await AwaitRegisteredAsync(key, 2);

        nodes[0].Manager.Tell(new Release(key), nodes[0].Probe.Ref);
        nodes[0].Probe.ExpectMsg<LockReleased>();
        // The winner is whoever the record names (one probe per node: a second ExpectMsg on it would race this one).
        string? owner = null;
        await AwaitAssertAsync(async () => Assert.NotEqual("race-1", owner = (await _table.ReadAsync(new LockKey(key)))!.OwnerName), TimeSpan.FromSeconds(10));
        var winner = nodes[owner == "race-2" ? 1 : 2];
        var loser = nodes[owner == "race-2" ? 2 : 1];
        winner.Probe.ExpectMsg<LockAcquired>();
        await AwaitRegisteredAsync(key, 1);
        Assert.Contains(ManagerAddress(loser.Node), (await _table.ReadAsync(new LockKey(key)))!.Waiters);

        winner.Manager.Tell(new Release(key), winner.Probe.Ref);
        winner.Probe.ExpectMsg<LockReleased>();
        loser.Probe.ExpectMsg<LockAcquired>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task In_an_Akka_cluster_a_release_reaches_the_waiting_member_at_once()
    {
        // The same hand-off between two members of a real cluster (the cluster provider is remoting underneath).
        const string clustered = """
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.cluster.downing-provider-class = ""
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            akka.cluster.run-coordinated-shutdown-when-down = off
            """;
        var systemName = $"notice-cluster-{Guid.NewGuid():N}"[..24];
        var node1 = StartNode(systemName, clustered);
        var node2 = StartNode(systemName, clustered);
        var cluster1 = Akka.Cluster.Cluster.Get(node1);
        await cluster1.JoinAsync(cluster1.SelfAddress);
        await Akka.Cluster.Cluster.Get(node2).JoinAsync(cluster1.SelfAddress);
        await AwaitAssertAsync(() => Assert.Equal(2, cluster1.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up)), TimeSpan.FromSeconds(20));
        var manager1 = node1.ActorOf(LockManager.Props(_table, SlowPolling("member-1")), "locks");
        var manager2 = node2.ActorOf(LockManager.Props(_table, SlowPolling("member-2")), "locks");
        var key = NewKey();
        var (holder, held, waiter) = await HoldAndAwaitWaiterAsync(node1, manager1, node2, manager2, key);

        manager1.Tell(new Release(key), holder.Ref);

        // Within seconds, not at the next poll (24 to 30 s away).
        Assert.Equal(held.FencingToken + 1, waiter.ExpectMsg<LockAcquired>(TimeSpan.FromSeconds(10)).FencingToken);
    }

    [Fact]
    public async Task Without_a_notice_the_waiter_gets_the_lock_at_its_next_poll()
    {
        // Node 1 has no remoting: it cannot tell anyone. Node 2 registered all the same and finds the lock free by polling.
        var key = NewKey();
        var node1 = StartNode("no-remoting-1");
        var manager1 = node1.ActorOf(LockManager.Props(_table, FastSettings("no-remoting-1")), "locks");
        var (node2, manager2) = StartRemoteNode("no-remoting-2");
        using var received = new CounterListener("dynamolock.notices_received", "no-remoting-2");
        var (holder, _, waiter) = await HoldAndAwaitWaiterAsync(node1, manager1, node2, manager2, key);

        manager1.Tell(new Release(key), holder.Ref);

        waiter.ExpectMsg<LockAcquired>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, received.Total);
    }

    [Fact]
    public async Task Duplicated_and_early_notices_grant_nothing_while_the_lock_is_held()
    {
        var key = NewKey();
        var (node1, manager1) = StartRemoteNode("duplicates-1");
        var (node2, manager2) = StartRemoteNode("duplicates-2");
        var (_, held, waiter) = await HoldAndAwaitWaiterAsync(node1, manager1, node2, manager2, key);

        var selection = node1.ActorSelection(ManagerAddress(node2));
        for (var i = 0; i < 5; i++)
        {
            selection.Tell(new LockFreed(key));
        }

        waiter.ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        var record = (await _table.ReadAsync(new LockKey(key)))!;
        Assert.Equal(("duplicates-1", held.FencingToken), (record.OwnerName, record.FencingToken));
        Assert.Equal(LockState.Held, (await LocksOf(manager1, key)).Single().State);
    }

    [Fact]
    public async Task A_notice_dropped_by_the_transport_is_made_up_for_by_polling()
    {
        // Akka.Remote's throttler drops everything from node 1 to node 2 after the waiter has registered: the release's
        // notice is lost, and node 2 finds the lock free at its next poll (every 2.4 to 3 s here).
        const string throttled = """
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0, applied-adapters = [trttl] }
            """;
        var settings1 = SlowPolling("dropped-1");
        var settings2 = SlowPolling("dropped-2") with { RefreshInterval = TimeSpan.FromSeconds(1), NoticeRefreshInterval = TimeSpan.FromSeconds(3) };
        var node1 = StartNode("dropped-1", throttled);
        var node2 = StartNode("dropped-2", throttled);
        var manager1 = node1.ActorOf(LockManager.Props(_table, settings1), "locks");
        var manager2 = node2.ActorOf(LockManager.Props(_table, settings2), "locks");
        using var sent = new CounterListener("dynamolock.notices_sent", "dropped-1");
        using var received = new CounterListener("dynamolock.notices_received", "dropped-2");
        var key = NewKey();
        var (holder, _, waiter) = await HoldAndAwaitWaiterAsync(node1, manager1, node2, manager2, key);

        var transport = ((Akka.Remote.IRemoteActorRefProvider)((ExtendedActorSystem)node1).Provider).Transport;
        Assert.True(await transport.ManagementCommand(new Akka.Remote.Transport.SetThrottle(
            AddressOf(node2), Akka.Remote.Transport.ThrottleTransportAdapter.Direction.Send, Akka.Remote.Transport.Blackhole.Instance)));
        manager1.Tell(new Release(key), holder.Ref);
        holder.ExpectMsg<LockReleased>();

        waiter.ExpectMsg<LockAcquired>(TimeSpan.FromSeconds(15));
        Assert.Equal(1, sent.Total);
        Assert.Equal(0, received.Total);
    }
}
