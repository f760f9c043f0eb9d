using Akka.Actor;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// Requests that arrive while a write is in flight (held with a frozen table), and releases the holder did not ask for:
/// the regression tests of the races a review of the state machine found.
/// </summary>
public sealed class LockActorRaceTests : LockTestKit
{
    private static readonly AcquireOptions ShortLease = new() { WaitTimeout = Timeout.InfiniteTimeSpan, LeaseDuration = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromMilliseconds(300) };
    private static readonly AcquireOptions LongLease = new() { WaitTimeout = Timeout.InfiniteTimeSpan, LeaseDuration = TimeSpan.FromSeconds(10), HeartbeatInterval = TimeSpan.FromSeconds(3) };
    private readonly InMemoryLockTable _memory = new();
    private readonly ControllableLockTable _table;
    private readonly IActorRef _manager;

    public LockActorRaceTests(ITestOutputHelper output)
        : base(output)
    {
        _table = new ControllableLockTable(_memory);
        _manager = StartManager(_table, FastSettings("node-races"));
    }

    private static string NewKey() => $"race/{Guid.NewGuid():N}";

    private async Task<LockRecord> StoredAsync(string key) => (await _memory.ReadAsync(new LockKey(key)))!;

    [Fact]
    public async Task A_grant_written_for_a_requester_that_left_is_not_passed_on_with_its_lease()
    {
        var key = NewKey();
        var first = CreateTestProbe();
        var second = CreateTestProbe();
        _table.Freeze();
        first.Send(_manager, new Acquire(key, ShortLease));
        AwaitAssert(() => Assert.Equal(1, _table["TryAcquire"]));
        second.Send(_manager, new Acquire(key, LongLease));
        first.Send(_manager, new Release(key));
        first.ExpectMsg<LockNotHeld>();

        _table.Thaw();
        var granted = second.ExpectMsg<LockAcquired>();

        var stored = await StoredAsync(key);
        Assert.Equal(TimeSpan.FromSeconds(10), stored.LeaseDuration);
        Assert.Equal(granted.FencingToken, stored.FencingToken);
        Assert.Equal(2, granted.FencingToken); // token 1 was written for the first requester and given back
    }

    [Fact]
    public async Task A_hand_off_written_for_a_requester_that_left_is_not_passed_on_with_its_lease()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        var leaving = CreateTestProbe();
        var staying = CreateTestProbe();
        holder.Send(_manager, new Acquire(key, new AcquireOptions { LeaseDuration = TimeSpan.FromSeconds(20), HeartbeatInterval = TimeSpan.FromSeconds(5) }));
        holder.ExpectMsg<LockAcquired>();
        leaving.Send(_manager, new Acquire(key, ShortLease));
        staying.Send(_manager, new Acquire(key, LongLease));
        AwaitAssert(() => Assert.Equal(2, _manager.Ask<LockStatusReport>(new GetLockStatus(key)).Result.Locks.Single().Waiters));
        _table.Freeze();
        holder.Send(_manager, new Release(key));
        AwaitAssert(() => Assert.Equal(1, _table["Heartbeat"]));
        leaving.Send(_manager, new Release(key));
        leaving.ExpectMsg<LockNotHeld>();

        _table.Thaw();
        holder.ExpectMsg<LockReleased>();
        var granted = staying.ExpectMsg<LockAcquired>();

        var stored = await StoredAsync(key);
        Assert.Equal(TimeSpan.FromSeconds(10), stored.LeaseDuration);
        Assert.Equal(granted.FencingToken, stored.FencingToken);
    }

    [Fact]
    public void A_holder_that_releases_and_acquires_again_gets_a_new_grant()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        holder.Send(_manager, new Acquire(key));
        var first = holder.ExpectMsg<LockAcquired>();
        _table.Freeze();
        holder.Send(_manager, new Release(key));
        holder.Send(_manager, new Acquire(key, AcquireOptions.Wait(Timeout.InfiniteTimeSpan)));

        _table.Thaw();

        Assert.Equal(new LockReleased(key, first.FencingToken), holder.ExpectMsg<LockReleased>());
        Assert.Equal(first.FencingToken + 1, holder.ExpectMsg<LockAcquired>().FencingToken);
    }

    [Fact]
    public async Task A_release_by_fencing_token_from_another_actor_tells_the_holder_first()
    {
        var key = NewKey();
        var client = new DynamoLockClient(Sys, _manager);
        var handle = await client.AcquireAsync(key, TimeSpan.FromSeconds(5));
        var lostBeforeRelease = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = handle.LostToken.Register(() => lostBeforeRelease.TrySetResult(!_memory.ReadAsync(new LockKey(key)).Result!.IsReleased));
        _table.Freeze();
        var other = CreateTestProbe();

        other.Send(_manager, new Release(key) { FencingToken = handle.FencingToken });

        Assert.True(await lostBeforeRelease.Task.WaitAsync(TimeSpan.FromSeconds(5)), "the holder must hear of it while the record is still held");
        _table.Thaw();
        other.ExpectMsg<LockReleased>();
        Assert.Equal(LockLossReason.Revoked, handle.LossReason);
    }

    [Fact]
    public async Task Shutdown_tells_holders_they_lost_their_locks()
    {
        var node = StartNode("revoking-node");
        var manager = node.ActorOf(LockManager.Props(_memory, FastSettings("node-revoking")));
        var handle = await new DynamoLockClient(node, manager).AcquireAsync(NewKey(), TimeSpan.FromSeconds(5));
        var holder = ProbeIn(node);
        var key = NewKey();
        holder.Send(manager, new Acquire(key));
        holder.ExpectMsg<LockAcquired>();

        await CoordinatedShutdown.Get(node).Run(CoordinatedShutdown.UnknownReason.Instance).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(LockLossReason.Revoked, holder.ExpectMsg<LockLost>().Reason);
        Assert.True(handle.LostToken.IsCancellationRequested);
        Assert.Equal(LockLossReason.Revoked, handle.LossReason);
        Assert.True((await _memory.ReadAsync(new LockKey(key)))!.IsReleased);
    }

    [Fact]
    public async Task A_holder_whose_own_release_is_in_flight_is_not_told_it_was_revoked()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        holder.Send(_manager, new Acquire(key));
        holder.ExpectMsg<LockAcquired>();
        _table.Freeze();
        holder.Send(_manager, new Release(key));
        AwaitAssert(() => Assert.Equal(1, _table["Release"]));

        var shutdown = _manager.Ask<Akka.Done>(ReleaseAllLocks.Instance, TimeSpan.FromSeconds(10));
        _table.Thaw();
        await shutdown;

        Assert.Equal(new LockReleased(key, 1), holder.ExpectMsg<LockReleased>());
        holder.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task An_acquire_sent_with_ask_is_refused_with_the_reason()
    {
        var refused = await _manager.Ask<LockNotAcquired>(new Acquire(NewKey()), TimeSpan.FromSeconds(5));

        Assert.Contains("Ask", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _table["TryAcquire"]);
    }

    [Fact]
    public async Task A_lock_actor_that_kept_receiving_commands_while_idle_still_stops()
    {
        var manager = StartManager(_table, FastSettings("node-idle-race") with { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        var key = NewKey();
        var probe = CreateTestProbe();
        probe.Send(manager, new Acquire(key));
        probe.ExpectMsg<LockAcquired>();
        var child = await Sys.ActorSelection(manager.Path / "lock-1").ResolveOne(TimeSpan.FromSeconds(3));
        probe.Watch(child);
        probe.Send(manager, new Release(key));
        probe.ExpectMsg<LockReleased>();

        // Commands keep arriving around the moment the idle actor reports itself (the pause paces them, it synchronises
        // nothing); every one restarts its idle period, so however they interleave with its report, it stops at last.
        for (var i = 0; i < 8; i++)
        {
            probe.Send(manager, new Release(key));
            await Task.Delay(60);
        }

        probe.FishForMessage(m => m is Terminated t && t.ActorRef.Equals(child), TimeSpan.FromSeconds(5));
    }
}
