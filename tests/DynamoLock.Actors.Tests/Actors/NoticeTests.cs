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
        using var received = new CounterListener("dynamolock.notices_received");

        node1.ActorSelection(ManagerAddress(node2)).Tell(new LockFreed(key));

        AwaitAssert(() => Assert.Equal(1, received.Total));

        // The core as it is takes no step on it yet; the waiter still waits, its manager unharmed.
        Assert.Equal(LockState.Waiting, (await LocksOf(manager2, key)).Single().State);
    }

    [Fact]
    public async Task A_LockFreed_for_a_key_without_a_lock_actor_or_a_malformed_key_is_ignored()
    {
        var (node1, manager1) = StartRemoteNode("notice-b-1");
        var (node2, manager2) = StartRemoteNode("notice-b-2");
        var key = NewKey();
        var unknown = NewKey();
        HoldOnOneWaitOnTwo(node1, manager1, node2, manager2, key);
        using var received = new CounterListener("dynamolock.notices_received");

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
        Assert.Equal(LockState.Waiting, (await LocksOf(manager2, key)).Single().State);
    }

    [Fact]
    public async Task NotifyWaiters_sends_LockFreed_to_each_other_node_and_skips_its_own_and_malformed_addresses()
    {
        var (node1, manager1) = StartRemoteNode("notice-c-1");
        var (node2, manager2) = StartRemoteNode("notice-c-2");
        var key = NewKey();
        HoldOnOneWaitOnTwo(node1, manager1, node2, manager2, key);
        var elsewhere = ProbeIn(node2);
        using var sent = new CounterListener("dynamolock.notices_sent");
        using var received = new CounterListener("dynamolock.notices_received");

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
}
