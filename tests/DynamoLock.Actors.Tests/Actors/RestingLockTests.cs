using Akka.Actor;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// Session-held locks with nothing to do rest: the manager keeps their cores alone, without an actor or a timer, and the
/// first input for a key takes its core up again. Whatever comes while a lock rests is handled as if it had not.
/// </summary>
public sealed class RestingLockTests(ITestOutputHelper output) : LockTestKit(output)
{
    // A 10 s lease (safe for 9 s) so that a loaded machine's stalls never cost a lock these tests expect held; locks rest
    // after 200 ms of quiet.
    private static DynamoLockSettings Settings(string owner) =>
        FastSettings(owner) with { UseSessions = true, LeaseDuration = TimeSpan.FromSeconds(10), SafetyMargin = TimeSpan.FromSeconds(1), IdleTimeout = TimeSpan.FromMilliseconds(200) };

    private IReadOnlyList<string> Resting(IActorRef manager) => manager.Ask<RestingKeys>(GetRestingKeys.Instance, TimeSpan.FromSeconds(5)).Result.Keys;

    private void AwaitResting(IActorRef manager, params string[] keys) =>
        AwaitAssert(() => Assert.Equal(keys, Resting(manager)), TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_quiet_session_held_lock_rests_without_an_actor_and_is_released_from_rest_in_one_write()
    {
        var table = new ControllableLockTable(new InMemoryLockTable());
        var manager = StartManager(table, Settings("rest-node"));
        var holder = CreateTestProbe();
        holder.Send(manager, new Acquire("rest/a"));
        var granted = holder.ExpectMsg<LockAcquired>();

        AwaitResting(manager, "rest/a");
        var status = await manager.Ask<LockStatusReport>(new GetLockStatus("rest/a"), TimeSpan.FromSeconds(5));
        Assert.Equal(LockState.Held, status.Locks.Single().State);
        Assert.Equal(granted.FencingToken, status.Locks.Single().FencingToken);
        var releasesBefore = table["Release"];

        holder.Send(manager, new Release("rest/a"));

        Assert.Equal(granted.FencingToken, holder.ExpectMsg<LockReleased>().FencingToken);
        Assert.Equal(releasesBefore + 1, table["Release"]);
        Assert.True((await table.ReadAsync(new LockKey("rest/a")))!.IsReleased);
        Assert.Empty(Resting(manager));
    }

    [Fact]
    public void A_resting_lock_is_handed_to_a_local_waiter_and_its_data_can_be_written()
    {
        var manager = StartManager(new InMemoryLockTable(), Settings("rest-handoff"));
        var holder = CreateTestProbe();
        holder.Send(manager, new Acquire("rest/b"));
        var first = holder.ExpectMsg<LockAcquired>();
        AwaitResting(manager, "rest/b");

        holder.Send(manager, new StoreLockData("rest/b", new byte[] { 42 }));
        holder.ExpectMsg<LockDataStored>();
        AwaitResting(manager, "rest/b");

        var waiter = CreateTestProbe();
        waiter.Send(manager, new Acquire("rest/b", AcquireOptions.Wait(TimeSpan.FromSeconds(30))));
        AwaitAssert(() => Assert.Equal(1, manager.Ask<LockStatusReport>(new GetLockStatus("rest/b")).Result.Locks.Single().Waiters));
        holder.Send(manager, new Release("rest/b"));
        holder.ExpectMsg<LockReleased>();

        var second = waiter.ExpectMsg<LockAcquired>();
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.Equal([42], second.Data.ToArray());
    }

    [Fact]
    public async Task A_holder_that_stops_while_its_lock_rests_frees_the_lock()
    {
        var table = new InMemoryLockTable();
        var manager = StartManager(table, Settings("rest-holder-stops"));
        var holder = CreateTestProbe();
        holder.Send(manager, new Acquire("rest/c"));
        holder.ExpectMsg<LockAcquired>();
        AwaitResting(manager, "rest/c");

        Sys.Stop(holder.Ref);

        await AwaitAssertAsync(async () => Assert.True((await table.ReadAsync(new LockKey("rest/c")))!.IsReleased), TimeSpan.FromSeconds(10));
        AwaitAssert(() => Assert.Empty(manager.Ask<LockStatusReport>(new GetLockStatus("rest/c")).Result.Locks));
    }

    [Fact]
    public async Task Resting_locks_are_lost_with_their_session_and_their_holders_are_told()
    {
        var table = new ControllableLockTable(new InMemoryLockTable());
        var manager = StartManager(table, Settings("rest-session-lost") with { LeaseDuration = TimeSpan.FromSeconds(3) });
        var holder = CreateTestProbe();
        holder.Send(manager, new Acquire("rest/d1"));
        holder.Send(manager, new Acquire("rest/d2"));
        var tokens = holder.ReceiveN(2).Cast<LockAcquired>().ToDictionary(m => m.Key, m => m.FencingToken);
        AwaitResting(manager, "rest/d1", "rest/d2");

        // The session's keep-alives fail from now on: at its safe deadline every lock under it is lost, resting or not.
        table.FailHeartbeats = true;

        var lost = holder.ReceiveN(2, TimeSpan.FromSeconds(10)).Cast<LockLost>().ToDictionary(m => m.Key);
        Assert.Equal(tokens["rest/d1"], lost["rest/d1"].FencingToken);
        Assert.Equal(tokens["rest/d2"], lost["rest/d2"].FencingToken);
        Assert.All(lost.Values, m => Assert.Equal(LockLossReason.LeaseExpired, m.Reason));
        Assert.Empty(Resting(manager));
        table.FailHeartbeats = false;

        // The next acquire gets a new session, and the lock once the old session's record has gone unrenewed for its
        // lease (3 s) and the drift allowance, as any waiter would.
        var oldSession = (await table.ReadAsync(new LockKey("rest/d1")))!.SessionKey;
        holder.Send(manager, new Acquire("rest/d1", AcquireOptions.Wait(TimeSpan.FromSeconds(20))));
        Assert.True(holder.ExpectMsg<LockAcquired>(TimeSpan.FromSeconds(20)).FencingToken > tokens["rest/d1"]);
        var newSession = (await table.ReadAsync(new LockKey("rest/d1")))!.SessionKey;
        Assert.NotNull(newSession);
        Assert.NotEqual(oldSession, newSession);
    }

    [Fact]
    public async Task Coordinated_shutdown_releases_resting_locks()
    {
        var node = StartNode("rest-shutdown");
        var table = new InMemoryLockTable();
        var manager = node.ActorOf(LockManager.Props(table, Settings("rest-shutdown")), "locks");
        var holder = ProbeIn(node);
        holder.Send(manager, new Acquire("rest/e"));
        holder.ExpectMsg<LockAcquired>();
        AwaitResting(manager, "rest/e");

        await CoordinatedShutdown.Get(node).Run(CoordinatedShutdown.ClrExitReason.Instance);

        Assert.True((await table.ReadAsync(new LockKey("rest/e")))!.IsReleased);
    }
}
