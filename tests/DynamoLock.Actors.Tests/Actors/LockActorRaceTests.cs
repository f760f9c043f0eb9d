using Akka.Actor;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// What the lock actor itself owes around the core (the core's races are step-by-step tests in Core/LockCoreRaceTests):
/// a revoked holder's handle hears before the record is released, shutdown revokes, Ask is refused, idle actors stop.
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
