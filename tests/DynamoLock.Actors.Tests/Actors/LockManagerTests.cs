using Akka.Actor;
using Akka.TestKit;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>One node's lock manager on the in-memory table: requests, the local queue, events, status and bad input.</summary>
public sealed class LockManagerTests : LockTestKit
{
    private static readonly AcquireOptions WaitForever = AcquireOptions.Wait(Timeout.InfiniteTimeSpan);
    private readonly InMemoryLockTable _memory = new();
    private readonly ControllableLockTable _table;
    private readonly IActorRef _manager;

    public LockManagerTests(ITestOutputHelper output)
        : base(output)
    {
        _table = new ControllableLockTable(_memory);
        _manager = StartManager(_table, FastSettings("node-1"));
    }

    private static string NewKey() => $"jobs/{Guid.NewGuid():N}";

    private LockAcquired AcquireWith(TestProbe probe, string key, AcquireOptions? options = null)
    {
        probe.Send(_manager, new Acquire(key, options));
        return probe.ExpectMsg<LockAcquired>();
    }

    [Fact]
    public void An_acquired_lock_is_released_and_reacquired_with_the_next_token()
    {
        var key = NewKey();
        var probe = CreateTestProbe();

        var first = AcquireWith(probe, key);
        probe.Send(_manager, new Release(key));
        var released = probe.ExpectMsg<LockReleased>();
        var second = AcquireWith(probe, key);

        Assert.Equal(1, first.FencingToken);
        Assert.Equal(new LockReleased(key, 1), released);
        Assert.Equal(2, second.FencingToken);
        Assert.Equal(1, _table["TryAcquire"] - 1);
        Assert.Equal(1, _table["Release"]);
    }

    [Fact]
    public void A_requester_that_tries_once_is_refused_while_the_lock_is_held_here()
    {
        var key = NewKey();
        AcquireWith(CreateTestProbe(), key);
        var other = CreateTestProbe();

        other.Send(_manager, new Acquire(key));

        var refused = other.ExpectMsg<LockNotAcquired>();
        Assert.Equal("node-1", refused.CurrentOwner);
        Assert.Contains("another requester on this node", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Waiting_requesters_get_the_lock_in_FIFO_order_each_hand_off_in_one_write()
    {
        var key = NewKey();
        var holder = CreateTestProbe("holder");
        var waiters = Enumerable.Range(1, 3).Select(i => CreateTestProbe($"waiter-{i}")).ToList();
        AcquireWith(holder, key);
        foreach (var waiter in waiters)
        {
            waiter.Send(_manager, new Acquire(key, WaitForever));
        }

        AwaitAssert(() => Assert.Equal(3, Status(key)?.Waiters));
        var heartbeatsBefore = _table["Heartbeat"];

        var tokens = new List<long>();
        var current = holder;
        foreach (var next in waiters)
        {
            current.Send(_manager, new Release(key));
            current.ExpectMsg<LockReleased>();
            var granted = next.ExpectMsg<LockAcquired>();
            tokens.Add(granted.FencingToken);
            current = next;
        }

        Assert.Equal([2L, 3L, 4L], tokens);
        Assert.Equal(1, _table["TryAcquire"]);
        Assert.Equal(0, _table["Release"]);
        Assert.True(_table["Heartbeat"] - heartbeatsBefore >= 3, "each hand-off is one heartbeat write (plus any regular heartbeat that fell due)");
    }

    [Fact]
    public void Consecutive_local_hand_offs_are_capped_then_the_lock_is_released_and_acquired_again()
    {
        // The clock only moves when the test says so: a run of hand-offs lasts at least two refresh intervals.
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var table = new ControllableLockTable(_memory);
        var settings = FastSettings("node-capped") with { MaxLocalHandOffs = 1, TimeProvider = clock };
        var manager = StartManager(table, settings);
        var key = NewKey();
        var probes = Enumerable.Range(0, 4).Select(i => CreateTestProbe($"requester-{i}")).ToList();
        probes[0].Send(manager, new Acquire(key));
        probes[0].ExpectMsg<LockAcquired>();
        for (var i = 1; i < probes.Count; i++)
        {
            probes[i].Send(manager, new Acquire(key, WaitForever));
        }

        AwaitAssert(() => Assert.Equal(3, StatusOf(manager, key)?.Waiters));

        // Past the cap but within two refresh intervals of the grant: still handed over in one write.
        probes[0].Send(manager, new Release(key));
        var first = probes[1].ExpectMsg<LockAcquired>();
        probes[1].Send(manager, new Release(key));
        var second = probes[2].ExpectMsg<LockAcquired>();
        Assert.Equal(0, table["Release"]);

        // Cap reached and the run is old enough: released and left free for a little over a refresh interval (on the
        // node's clock, which only this test moves), then acquired afresh from the table.
        clock.Advance(settings.RefreshInterval * 2);
        probes[2].Send(manager, new Release(key));
        AwaitAssert(() => Assert.Equal(LockState.Waiting, StatusOf(manager, key)?.State));
        Assert.Equal(1, table["Release"]);
        clock.Advance(settings.RefreshInterval * 1.1);
        var reacquired = probes[3].ExpectMsg<LockAcquired>();

        Assert.Equal([2L, 3L, 4L], new[] { first.FencingToken, second.FencingToken, reacquired.FencingToken });
        Assert.Equal(1, table["Release"]);
        Assert.Equal(2, table["TryAcquire"]);
    }

    [Fact]
    public void A_cap_of_zero_local_hand_offs_releases_every_time()
    {
        var table = new ControllableLockTable(_memory);
        var manager = StartManager(table, FastSettings("node-no-hand-offs") with { MaxLocalHandOffs = 0 });
        var key = NewKey();
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        holder.Send(manager, new Acquire(key));
        holder.ExpectMsg<LockAcquired>();
        waiter.Send(manager, new Acquire(key, WaitForever));
        AwaitAssert(() => Assert.Equal(1, StatusOf(manager, key)?.Waiters));

        holder.Send(manager, new Release(key));

        Assert.Equal(2, waiter.ExpectMsg<LockAcquired>().FencingToken);
        Assert.Equal(1, table["Release"]);
        Assert.Equal(2, table["TryAcquire"]);
    }

    [Fact]
    public void A_holder_that_stops_has_its_lock_released_and_passed_on()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        AcquireWith(holder, key);
        waiter.Send(_manager, new Acquire(key, WaitForever));
        AwaitAssert(() => Assert.Equal(1, Status(key)?.Waiters));

        Sys.Stop(holder.Ref);

        Assert.Equal(2, waiter.ExpectMsg<LockAcquired>().FencingToken);
    }

    [Fact]
    public void A_waiter_that_stops_leaves_the_queue()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        var leaving = CreateTestProbe();
        var staying = CreateTestProbe();
        AcquireWith(holder, key);
        leaving.Send(_manager, new Acquire(key, WaitForever));
        staying.Send(_manager, new Acquire(key, WaitForever));
        AwaitAssert(() => Assert.Equal(2, Status(key)?.Waiters));

        Sys.Stop(leaving.Ref);
        AwaitAssert(() => Assert.Equal(1, Status(key)?.Waiters));
        holder.Send(_manager, new Release(key));

        Assert.Equal(2, staying.ExpectMsg<LockAcquired>().FencingToken);
    }

    [Fact]
    public void A_wait_that_runs_out_is_answered_with_the_reason()
    {
        var key = NewKey();
        AcquireWith(CreateTestProbe(), key);
        var waiter = CreateTestProbe();

        waiter.Send(_manager, new Acquire(key, AcquireOptions.Wait(TimeSpan.FromMilliseconds(300))));

        var refused = waiter.ExpectMsg<LockNotAcquired>();
        Assert.Equal(LockRefusalKind.WaitTimedOut, refused.Kind);
        Assert.StartsWith("Waited 300ms; the lock is held by", refused.Reason, StringComparison.Ordinal);
        AwaitAssert(() => Assert.Equal(0, Status(key)?.Waiters));
    }

    [Fact]
    public void A_release_from_a_waiter_cancels_its_wait_and_a_release_from_a_stranger_is_refused()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        var stranger = CreateTestProbe();
        AcquireWith(holder, key);
        waiter.Send(_manager, new Acquire(key, WaitForever));
        AwaitAssert(() => Assert.Equal(1, Status(key)?.Waiters));

        var unknownKey = CreateTestProbe();
        waiter.Send(_manager, new Release(key));
        stranger.Send(_manager, new Release(key));
        unknownKey.Send(_manager, new Release(NewKey()));

        Assert.Contains("pending acquire was cancelled", waiter.ExpectMsg<LockNotHeld>().Reason, StringComparison.Ordinal);
        Assert.Contains("another requester", stranger.ExpectMsg<LockNotHeld>().Reason, StringComparison.Ordinal);
        Assert.Contains("not held on this node", unknownKey.ExpectMsg<LockNotHeld>().Reason, StringComparison.Ordinal);
        Assert.Equal(0, Status(key)?.Waiters);
    }

    [Fact]
    public void A_release_with_the_holders_fencing_token_is_accepted_from_anyone()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        var granted = AcquireWith(holder, key);
        var helper = CreateTestProbe();

        helper.Send(_manager, new Release(key) { FencingToken = granted.FencingToken });

        Assert.Equal(new LockLost(key, 1, LockLossReason.Revoked), holder.ExpectMsg<LockLost>());
        Assert.Equal(new LockReleased(key, 1), helper.ExpectMsg<LockReleased>());
        holder.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Subscribers_and_the_event_stream_receive_the_lock_events()
    {
        var key = NewKey();
        var otherKey = NewKey();
        var forKey = CreateTestProbe();
        var forAll = CreateTestProbe();
        var stream = CreateTestProbe();
        Sys.EventStream.Subscribe(stream.Ref, typeof(ILockEvent));
        _manager.Tell(new SubscribeLockEvents(forKey.Ref, key), forKey.Ref);
        forKey.ExpectMsg<LockEventsSubscribed>();
        _manager.Tell(new SubscribeLockEvents(forAll.Ref), forAll.Ref);
        forAll.ExpectMsg<LockEventsSubscribed>();
        var holder = CreateTestProbe();

        AcquireWith(holder, key);
        AcquireWith(holder, otherKey);
        holder.Send(_manager, new Release(key));
        holder.ExpectMsg<LockReleased>();

        forKey.ExpectMsg<LockAcquired>(m => m.Key == key);
        forKey.ExpectMsg<LockReleased>(m => m.Key == key);
        forKey.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        forAll.ExpectMsg<LockAcquired>(m => m.Key == key);
        forAll.ExpectMsg<LockAcquired>(m => m.Key == otherKey);
        forAll.ExpectMsg<LockReleased>(m => m.Key == key);
        stream.FishForMessage(m => m is LockReleased r && r.Key == key);
    }

    [Fact]
    public async Task Status_reports_held_locks_with_their_tokens_holders_and_waiters()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        AcquireWith(holder, key);
        CreateTestProbe().Send(_manager, new Acquire(key, WaitForever));

        await AwaitAssertAsync(async () =>
        {
            var report = await _manager.Ask<LockStatusReport>(new GetLockStatus());
            var info = Assert.Single(report.Locks, l => l.Key == key);
            Assert.Equal("node-1", report.OwnerName);
            Assert.Equal(LockState.Held, info.State is LockState.Renewing ? LockState.Held : info.State);
            Assert.Equal(1, info.FencingToken);
            Assert.Equal(holder.Ref, info.Holder);
            Assert.Equal(1, info.Waiters);
        });
    }

    [Fact]
    public void Data_is_stored_with_the_lock_and_given_to_the_next_holder()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        var granted = AcquireWith(holder, key, new AcquireOptions { Data = [1] });

        holder.Send(_manager, new StoreLockData(key, [2, 3]));
        holder.ExpectMsg<LockDataStored>();
        holder.Send(_manager, new Release(key));
        holder.ExpectMsg<LockReleased>();
        var next = AcquireWith(CreateTestProbe(), key);

        Assert.Equal([1], granted.Data.ToArray());
        Assert.Equal([2, 3], next.Data.ToArray());
        var stranger = CreateTestProbe();
        stranger.Send(_manager, new StoreLockData(key, [4]));
        stranger.ExpectMsg<LockNotHeld>();
    }

    [Fact]
    public async Task Bad_requests_are_answered_with_what_was_wrong_and_never_reach_a_lock_actor()
    {
        var probe = CreateTestProbe();
        string Refusal(Acquire acquire)
        {
            probe.Send(_manager, acquire);
            return probe.ExpectMsg<LockNotAcquired>().Reason;
        }

        Assert.Contains("must not be empty", Refusal(new Acquire("")), StringComparison.Ordinal);
        Assert.Contains("must not be null", Refusal(new Acquire(null!)), StringComparison.Ordinal);
        Assert.Contains("UTF-8 bytes", Refusal(new Acquire(new string('k', 3000))), StringComparison.Ordinal);
        Assert.Contains("HeartbeatInterval", Refusal(new Acquire("k", new AcquireOptions { HeartbeatInterval = TimeSpan.FromSeconds(1) })), StringComparison.Ordinal);
        Assert.Contains("LeaseDuration", Refusal(new Acquire("k", new AcquireOptions { LeaseDuration = TimeSpan.Zero })), StringComparison.Ordinal);
        Assert.Contains("WaitTimeout", Refusal(new Acquire("k", new AcquireOptions { WaitTimeout = TimeSpan.FromSeconds(-5) })), StringComparison.Ordinal);
        Assert.Contains("Data", Refusal(new Acquire("k", new AcquireOptions { Data = new byte[LockValidation.MaxDataBytes + 1] })), StringComparison.Ordinal);
        probe.Send(_manager, new StoreLockData("k", null!));
        Assert.Contains("data", probe.ExpectMsg<LockNotHeld>().Reason, StringComparison.Ordinal);
        probe.Send(_manager, new Release(""));
        Assert.Contains("Invalid key", probe.ExpectMsg<LockNotHeld>().Reason, StringComparison.Ordinal);

        Assert.Equal(0, _table["TryAcquire"]);
        Assert.Empty((await _manager.Ask<LockStatusReport>(new GetLockStatus())).Locks);
    }

    [Fact]
    public void Invalid_settings_are_rejected_with_the_setting_named()
    {
        Assert.Contains("HeartbeatInterval", Assert.Throws<ArgumentOutOfRangeException>(() => LockManager.Props(_table, new DynamoLockSettings { HeartbeatInterval = TimeSpan.FromSeconds(10) })).Message, StringComparison.Ordinal);
        Assert.Contains("SafetyMargin", Assert.Throws<ArgumentOutOfRangeException>(() => LockManager.Props(_table, new DynamoLockSettings { SafetyMargin = TimeSpan.FromSeconds(20) })).Message, StringComparison.Ordinal);
        Assert.Contains("SafetyMargin", Assert.Throws<ArgumentOutOfRangeException>(() => LockManager.Props(_table, new DynamoLockSettings { SafetyMargin = TimeSpan.FromSeconds(16) })).Message, StringComparison.Ordinal);
        Assert.Contains("LeaseDuration", Assert.Throws<ArgumentOutOfRangeException>(() => LockManager.Props(_table, new DynamoLockSettings { LeaseDuration = TimeSpan.FromSeconds(-1) })).Message, StringComparison.Ordinal);
        Assert.Contains("OwnerName", Assert.Throws<ArgumentException>(() => LockManager.Props(_table, new DynamoLockSettings { OwnerName = "" })).Message, StringComparison.Ordinal);
        Assert.Contains("RefreshInterval", Assert.Throws<ArgumentOutOfRangeException>(() => LockManager.Props(_table, new DynamoLockSettings { RefreshInterval = TimeSpan.Zero })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_idle_lock_actor_stops_and_its_key_keeps_working()
    {
        var manager = StartManager(_table, FastSettings("node-idle") with { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        var key = NewKey();
        var probe = CreateTestProbe();
        probe.Send(manager, new Acquire(key));
        probe.ExpectMsg<LockAcquired>();
        var child = await Sys.ActorSelection(manager.Path / "lock-1").ResolveOne(TimeSpan.FromSeconds(3));
        probe.Watch(child);

        probe.Send(manager, new Release(key));
        probe.ExpectMsg<LockReleased>();
        probe.ExpectTerminated(child);
        probe.Send(manager, new Acquire(key));

        Assert.Equal(2, probe.ExpectMsg<LockAcquired>().FencingToken);
    }

    [Fact]
    public async Task A_fail_closed_lock_is_never_heartbeated_nor_taken_over()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        var other = StartManager(new ControllableLockTable(_memory), FastSettings("node-2"));
        AcquireWith(holder, key, new AcquireOptions { FailClosed = true });
        var waiter = CreateTestProbe();

        waiter.Send(other, new Acquire(key, AcquireOptions.Wait(TimeSpan.FromSeconds(3))));

        var refused = waiter.ExpectMsg<LockNotAcquired>(TimeSpan.FromSeconds(10));
        Assert.Equal("node-1", refused.CurrentOwner);
        Assert.Equal(0, _table["Heartbeat"]);
        Assert.Null((await _memory.ReadAsync(new LockKey(key)))?.LeaseDuration);
    }

    [Fact]
    public async Task Shutdown_releases_every_held_lock()
    {
        var node = StartNode("shutdown-node");
        var manager = node.ActorOf(LockManager.Props(_memory, FastSettings("node-shutdown")));
        var keys = new[] { NewKey(), NewKey() };
        var holder = ProbeIn(node);
        foreach (var key in keys)
        {
            holder.Send(manager, new Acquire(key));
            holder.ExpectMsg<LockAcquired>();
        }

        await CoordinatedShutdown.Get(node).Run(CoordinatedShutdown.UnknownReason.Instance).WaitAsync(TimeSpan.FromSeconds(20));

        foreach (var key in keys)
        {
            Assert.True((await _memory.ReadAsync(new LockKey(key)))?.IsReleased);
        }
    }

    private LockInfo? Status(string key) => StatusOf(_manager, key);

    private static LockInfo? StatusOf(IActorRef manager, string key) =>
        manager.Ask<LockStatusReport>(new GetLockStatus(key)).Result.Locks.SingleOrDefault();
}
