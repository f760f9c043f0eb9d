using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;
using Xunit;

namespace DynamoLock.Actors.Tests.Core;

/// <summary>
/// Notices, step by step: a waiting core registers its node on the record once, the holder's release tells the
/// registered nodes, and a notice makes a waiter try at once. A notice is only a hint: the grant comes from the write.
/// </summary>
public sealed class LockCoreNoticeTests
{
    private const string AddressB = "akka.tcp://sys@10.0.0.2:4053/user/dynamolock";
    private static readonly AcquireOptions Waiting = AcquireOptions.Wait(TimeSpan.FromMinutes(1));

    [Fact]
    public async Task A_waiter_registers_once_the_release_tells_it_and_its_acquire_takes_its_address_off()
    {
        var table = new InMemoryLockTable();
        var (a, b, registration) = HeldByAWaitedForByB(table);
        Assert.Equal(LockCore.NoAnswer, registration.Op);
        Assert.Equal(AddressB, ((AddWaiterCall)registration.Call).Waiter);
        b.Execute(registration);
        Assert.Equal([AddressB], (await table.ReadAsync(new LockKey(CoreHarness.Key)))!.Waiters);

        // The next poll sees the address listed: no second registration.
        b.WakeWhenAsked();
        b.Answer();
        Assert.DoesNotContain(b.Pending, p => p.Call is AddWaiterCall);

        // The holder releases: its release returns the set, and the core tells the waiting node.
        a.Step(new ReleaseInput("holder", null));
        var released = a.Answer();
        Assert.Equal([AddressB], Assert.Single(released.OfType<NotifyWaiters>()).Addresses);

        // The notice makes the waiter write at once, taking its own address off in the granting write.
        b.Pending.Clear();
        b.Step(LockFreedInput.Instance);
        var acquire = (AcquireCall)Assert.Single(b.Pending).Call;
        Assert.Equal(AddressB, acquire.Request.WaiterToRemove);
        Assert.Single(CoreHarness.SentTo(b.Answer(), "waiter").OfType<LockAcquired>());
        Assert.Empty((await table.ReadAsync(new LockKey(CoreHarness.Key)))!.Waiters);
    }

    [Fact]
    public async Task A_notice_while_the_lock_is_still_held_costs_one_refused_write_and_grants_nothing()
    {
        var table = new InMemoryLockTable();
        var a = new CoreHarness(table, owner: "node-a");
        var b = new CoreHarness(table, owner: "node-b", noticeAddress: AddressB);
        a.Acquire("holder");
        a.Answer();
        b.Acquire("waiter", Waiting);
        b.Answer();
        b.Execute(TakeRegistration(b));
        b.Pending.Clear();

        // A late or forged notice: the lock is still held by node-a.
        b.Step(LockFreedInput.Instance);
        var effects = b.Answer();

        Assert.Empty(CoreHarness.SentTo(effects, "waiter"));
        Assert.Equal(LockState.Waiting, b.Core.State);
        Assert.Equal("node-a", (await table.ReadAsync(new LockKey(CoreHarness.Key)))!.OwnerName);
    }

    [Fact]
    public void A_notice_to_a_core_that_holds_is_idle_or_is_already_writing_does_nothing()
    {
        var holding = new CoreHarness(owner: "node-a", noticeAddress: AddressB);
        holding.Acquire("holder");
        holding.Answer();
        var idle = new CoreHarness(owner: "node-c", noticeAddress: AddressB);
        var acquiring = new CoreHarness(owner: "node-d", noticeAddress: AddressB);
        acquiring.Acquire("writer");

        foreach (var core in new[] { holding, idle, acquiring })
        {
            var effects = core.Step(LockFreedInput.Instance);
            Assert.DoesNotContain(effects, e => e is CallTable or SendTo or NotifyWaiters);
        }
    }

    [Fact]
    public async Task Without_a_notice_address_a_waiter_never_registers_and_a_release_tells_nobody_of_itself()
    {
        var table = new InMemoryLockTable();
        var a = new CoreHarness(table, owner: "node-a", noticeAddress: AddressB);
        var b = new CoreHarness(table, owner: "node-b");
        a.Acquire("holder");
        a.Answer();
        b.Acquire("waiter", Waiting);
        b.Answer();
        Assert.DoesNotContain(b.Pending, p => p.Call is AddWaiterCall);

        // The holder's own address on the record (registered by an earlier wait of this node) is never told.
        Assert.Equal(WaiterRegistration.Registered, await table.AddWaiterAsync(new LockKey(CoreHarness.Key), AddressB));
        a.Step(new ReleaseInput("holder", null));
        Assert.Empty(a.Answer().OfType<NotifyWaiters>());
    }

    [Fact]
    public async Task A_waiter_that_loses_the_race_after_a_notice_registers_again_at_once()
    {
        // Found by the hot-key benchmark: a release takes every waiter off the record, so the nodes that lose the race for
        // the freed lock are no longer listed. Registering at most once per refresh interval left them to their next poll
        // (6 s with notices) while the winners' nodes handed the lock between themselves.
        var table = new InMemoryLockTable();
        var a = new CoreHarness(table, owner: "node-a", noticeAddress: "akka.tcp://sys@10.0.0.1:4053/user/dynamolock");
        var b = new CoreHarness(table, owner: "node-b", noticeAddress: AddressB);
        var c = new CoreHarness(table, owner: "node-c", noticeAddress: "akka.tcp://sys@10.0.0.3:4053/user/dynamolock");
        a.Acquire("holder");
        a.Answer();
        foreach (var waiter in new[] { b, c })
        {
            waiter.Acquire("waiter", Waiting);
            waiter.Answer();
            waiter.Execute(TakeRegistration(waiter));
            waiter.Pending.Clear();
        }

        a.Step(new ReleaseInput("holder", null));
        Assert.Equal(2, Assert.Single(a.Answer().OfType<NotifyWaiters>()).Addresses.Count);

        // Node c's notice comes first and it wins; node b's write is refused and shows a record that does not list it.
        c.Step(LockFreedInput.Instance);
        Assert.Single(CoreHarness.SentTo(c.Answer(), "waiter").OfType<LockAcquired>());
        b.Step(LockFreedInput.Instance);
        b.Answer();

        Assert.Equal(LockState.Waiting, b.Core.State);
        b.Execute(TakeRegistration(b));
        Assert.Equal([AddressB], (await table.ReadAsync(new LockKey(CoreHarness.Key)))!.Waiters);
    }

    [Fact]
    public async Task A_registration_that_lands_after_the_release_finds_the_lock_free_and_the_waiter_tries_at_once()
    {
        // The waiter's refused acquire and its registration are two writes: a release between them takes a set that does
        // not list it yet, so nobody tells it. The registration itself reports the lock free (nothing written), and the
        // waiter writes at once instead of at its next poll.
        var table = new InMemoryLockTable();
        var (a, b, registration) = HeldByAWaitedForByB(table);

        a.Step(new ReleaseInput("holder", null));
        Assert.Empty(a.Answer().OfType<NotifyWaiters>());
        var answer = b.Execute(registration);

        Assert.Same(LockFreedInput.Instance, answer);
        Assert.Empty((await table.ReadAsync(new LockKey(CoreHarness.Key)))!.Waiters);
        b.Pending.Clear();
        b.Step(answer);
        Assert.Single(CoreHarness.SentTo(b.Answer(), "waiter").OfType<LockAcquired>());
    }

    [Fact]
    public void With_notices_a_run_of_local_hand_offs_yields_to_other_nodes_on_the_polling_nodes_schedule_not_the_longer_notice_refresh()
    {
        // Fairness between nodes keeps its rule with notices on: a run of local hand-offs ends after MaxLocalHandOffs but
        // not before two refresh intervals, and the lock released for the others stays free a little over one. Those are
        // the refresh-interval of nodes that poll; the longer notice-refresh-interval (how often this node polls, since it
        // is told of releases) made every run last six times longer.
        var settings = Actors.LockTestKit.FastSettings("node-a") with { NoticeRefreshInterval = TimeSpan.FromMilliseconds(600), MaxLocalHandOffs = 1 };
        var a = new CoreHarness(settings: settings, noticeAddress: "akka.tcp://sys@10.0.0.1:4053/user/dynamolock", adjust: o => o with { RefreshInterval = settings.RefreshIntervalWith(notices: true) });
        a.Acquire("first");
        a.Answer();
        a.Acquire("second", Waiting);
        a.Acquire("third", Waiting);
        a.Step(new ReleaseInput("first", null));
        Assert.IsType<HeartbeatCall>(Assert.Single(a.Pending).Call);
        Assert.Single(CoreHarness.SentTo(a.Answer(), "second").OfType<LockAcquired>());

        // Past the cap and two (polling) refresh intervals into the run: released for other nodes, not handed on.
        a.Advance(settings.RefreshInterval * 2.5);
        a.Step(new ReleaseInput("second", null));
        Assert.IsType<ReleaseCall>(Assert.Single(a.Pending).Call);
        var released = a.Answer();

        // Free for a little over one polling refresh interval, then this node asks again.
        var wake = Assert.IsType<WakeAt>(released.OfType<WakeAt>().Last());
        Assert.Equal(LockState.Waiting, a.Core.State);
        Assert.Equal(settings.RefreshInterval * 1.1, wake.At!.Value - a.Now);
    }

    /// <summary>Node a holds the lock; node b waits for it and has sent its registration, not yet executed.</summary>
    private static (CoreHarness A, CoreHarness B, CallTable Registration) HeldByAWaitedForByB(InMemoryLockTable table)
    {
        var a = new CoreHarness(table, owner: "node-a", noticeAddress: "akka.tcp://sys@10.0.0.1:4053/user/dynamolock");
        var b = new CoreHarness(table, owner: "node-b", noticeAddress: AddressB);
        a.Acquire("holder");
        a.Answer();
        b.Acquire("waiter", Waiting);
        b.Answer();
        return (a, b, TakeRegistration(b));
    }

    private static CallTable TakeRegistration(CoreHarness core)
    {
        var registration = Assert.Single(core.Pending, p => p.Call is AddWaiterCall);
        core.Pending.Remove(registration);
        return registration;
    }
}
