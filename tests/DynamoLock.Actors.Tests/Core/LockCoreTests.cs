using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;
using Xunit;

namespace DynamoLock.Actors.Tests.Core;

/// <summary>
/// The lock protocol step by step, on a clock the test moves: the interleavings real-time tests cannot reach, in
/// microseconds. Lease 2 s, heartbeat 400 ms, safety margin 800 ms (safe for 1.2 s after a write is sent).
/// </summary>
public sealed class LockCoreTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    private static CoreHarness Holding(object holder, AcquireOptions? options = null)
    {
        var core = new CoreHarness();
        core.Acquire(holder, options);
        Assert.Single(CoreHarness.SentTo(core.Answer(), holder).OfType<LockAcquired>());
        return core;
    }

    [Fact]
    public void A_heartbeat_answer_after_the_safe_deadline_does_not_extend_the_holding()
    {
        // Bug 2: the deadline fired on a timer that could be late, and a renewal arriving first extended the holding.
        var core = Holding("holder");
        core.Advance(400 * Ms);
        core.WakeWhenAsked();
        var heartbeat = core.TakePending();
        Assert.IsType<HeartbeatCall>(heartbeat.Call);

        // The answer comes back 1.3 s after the grant was sent: past the safe deadline (1.2 s), whatever the timers did.
        core.Advance(900 * Ms);
        var effects = core.Step(core.Execute(heartbeat));

        var lost = Assert.Single(CoreHarness.SentTo(effects, "holder").OfType<LockLost>());
        Assert.Equal(LockLossReason.LeaseExpired, lost.Reason);
        Assert.Equal(LockState.Idle, core.Core.State);
    }

    [Fact]
    public void A_grant_whose_write_returned_after_its_safe_deadline_is_given_back_not_used()
    {
        var core = new CoreHarness();
        core.Acquire("late", AcquireOptions.Wait(TimeSpan.FromSeconds(10)));
        var acquire = core.TakePending();
        core.Advance(1300 * Ms);

        var effects = core.Step(core.Execute(acquire));

        Assert.Empty(CoreHarness.SentTo(effects, "late").OfType<LockAcquired>());
        Assert.IsType<ReleaseCall>(Assert.Single(core.Pending).Call);
        core.Answer();

        // The requester still waits, and is granted by the next (timely) write.
        Assert.Single(CoreHarness.SentTo(core.Answer(), "late").OfType<LockAcquired>());
    }

    [Fact]
    public void A_hand_off_whose_write_returned_after_the_next_holders_safe_deadline_is_given_back_not_used()
    {
        // Found by the simulator (seed 4622): a hand-off write answered late granted the next requester a lease that had
        // already run out on this node's clock, while a waiter elsewhere had taken the lock over.
        var core = Holding("holder", new AcquireOptions { LeaseDuration = TimeSpan.FromSeconds(20), HeartbeatInterval = TimeSpan.FromSeconds(5) });
        core.Acquire("next", new AcquireOptions { WaitTimeout = Timeout.InfiniteTimeSpan, LeaseDuration = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromMilliseconds(400) });
        core.Step(new ReleaseInput("holder", null));
        var handOff = core.TakePending();
        Assert.True(((HeartbeatCall)handOff.Call).Request.IssueNewFencingToken);

        // The next requester's lease (2 s, safe for 1.2 s) counts from the hand-off's send; the answer comes 1.3 s later.
        core.Advance(1300 * Ms);
        var effects = core.Step(core.Execute(handOff));

        Assert.Single(CoreHarness.SentTo(effects, "holder").OfType<LockReleased>());
        Assert.Empty(CoreHarness.SentTo(effects, "next").OfType<LockAcquired>());
        Assert.IsType<ReleaseCall>(Assert.Single(core.Pending).Call);
        core.Answer();
        Assert.Single(CoreHarness.SentTo(core.Answer(), "next").OfType<LockAcquired>());
    }

    [Fact]
    public void A_write_with_an_unknown_outcome_is_retried_as_the_same_write_and_counts_from_its_first_send()
    {
        // Bug 1 at the core: the retry carries the first attempt's version number, so the table recognises it.
        var core = Holding("holder");
        core.Advance(400 * Ms);
        core.WakeWhenAsked();
        var first = core.TakePending();
        var applied = core.Execute(first);   // applied at the table; its answer is lost
        Assert.IsType<HeartbeatAnswered>(applied);
        core.Step(new TableFailed(first.Op, new LockTableUnavailableException("lost") { OutcomeUnknown = true }));

        core.WakeWhenAsked();
        var retry = core.TakePending();
        Assert.Equal(((HeartbeatCall)first.Call).Request, ((HeartbeatCall)retry.Call).Request);
        core.Advance(100 * Ms);
        var effects = core.Step(core.Execute(retry));

        Assert.Empty(CoreHarness.SentTo(effects, "holder").OfType<LockLost>());
        Assert.Equal(LockState.Held, core.Core.State);

        // The lease counts from the first attempt (sent at 400 ms): safe until 1.6 s, not until the retry's send + 1.2 s.
        core.Advance(TimeSpan.FromSeconds(1.6) - core.Now);
        Assert.Contains(core.Step(WakeInput.Instance), e => e is SendTo { Message: LockLost } || e is CallTable);
    }

    [Fact]
    public void A_write_stays_unsettled_until_an_answer_settles_it_even_when_a_retry_is_refused_before_it_applies()
    {
        // Found by the simulator (seed 13): the unknown-outcome write's retry failed plainly (not applied), the core forgot
        // the first attempt, wrote anew on the old version number and took its own record for someone else's.
        var core = Holding("holder");
        core.Advance(400 * Ms);
        core.WakeWhenAsked();
        var first = core.TakePending();
        core.Execute(first);   // applied; answer lost, and the read that would settle it failed
        core.Step(new TableFailed(first.Op, new LockTableUnavailableException("lost") { OutcomeUnknown = true }));
        core.WakeWhenAsked();
        var refused = core.TakePending();
        core.Step(new TableFailed(refused.Op, new LockTableUnavailableException("partitioned")));
        core.Step(new ReleaseInput("holder", null));

        // The release waits: the unsettled write goes again first, as it was.
        var again = core.TakePending();
        Assert.Equal(((HeartbeatCall)first.Call).Request, ((HeartbeatCall)again.Call).Request);
        core.Step(core.Execute(again));
        var effects = core.Answer();

        Assert.DoesNotContain(core.Effects, e => e is SendTo { Message: LockLost });
        Assert.Single(CoreHarness.SentTo(effects, "holder").OfType<LockReleased>());
        Assert.True(await_read(core)!.IsReleased);
    }

    [Fact]
    public void A_heartbeat_that_fails_transiently_is_retried_within_half_a_heartbeat_and_the_lock_stays_held()
    {
        var core = Holding("holder");
        core.Advance(400 * Ms);
        core.WakeWhenAsked();
        var failed = core.TakePending();
        core.Step(new TableFailed(failed.Op, new LockTableUnavailableException("throttled")));
        Assert.Equal(LockState.Held, core.Core.State);

        core.WakeWhenAsked();

        Assert.True(core.Now <= 600 * Ms, $"retried at {core.Now}");
        Assert.IsType<HeartbeatCall>(Assert.Single(core.Pending).Call);
        core.Answer();
        Assert.Equal(LockState.Held, core.Core.State);
        Assert.DoesNotContain(core.Effects, e => e is SendTo { Message: LockLost });
    }

    [Fact]
    public void A_revoked_holder_keeps_the_safety_margin_before_the_lock_is_handed_on()
    {
        // Bug 3: a release by fencing token from another actor handed the lock to the next local waiter at once.
        var core = Holding("holder");
        core.Acquire("next", AcquireOptions.Wait(Timeout.InfiniteTimeSpan));
        var token = core.Core.FencingToken;

        var effects = core.Step(new ReleaseInput("operator", token));

        Assert.Equal(LockLossReason.Revoked, Assert.Single(CoreHarness.SentTo(effects, "holder").OfType<LockLost>()).Reason);
        Assert.Empty(core.Pending);
        core.Advance(799 * Ms);
        core.Step(WakeInput.Instance);

        // Until the margin has passed the lock is only renewed (a heartbeat was due at 400 ms), not handed on.
        var renew = Assert.IsType<HeartbeatCall>(Assert.Single(core.Pending).Call);
        Assert.False(renew.Request.IssueNewFencingToken);
        core.Answer();
        Assert.Empty(core.Pending);

        core.WakeWhenAsked();
        Assert.True(core.Now >= 800 * Ms);
        var handOff = Assert.IsType<HeartbeatCall>(core.Pending.Last().Call);
        Assert.True(handOff.Request.IssueNewFencingToken);
    }

    [Fact]
    public void A_local_hand_off_stores_the_next_requesters_data_on_an_empty_record_even_when_it_keeps_existing_data()
    {
        // Bug 4: ReplaceData = false dropped the data on a hand-off; the table path stores it when the record has none.
        var core = Holding("holder");
        core.Acquire("next", new AcquireOptions { WaitTimeout = Timeout.InfiniteTimeSpan, Data = [7], ReplaceData = false });

        core.Step(new ReleaseInput("holder", null));
        var effects = core.Answer();

        var granted = Assert.Single(CoreHarness.SentTo(effects, "next").OfType<LockAcquired>());
        Assert.Equal([7], granted.Data.ToArray());
    }

    [Fact]
    public void A_heartbeat_sends_no_state_report()
    {
        // Bug 5 (the chatter part): Held -> Renewing -> Held sent two reports per heartbeat.
        var core = Holding("holder");
        core.Advance(400 * Ms);
        var effects = core.WakeWhenAsked();
        effects.AddRange(core.Answer());

        Assert.Single(core.Effects.OfType<CountMetric>(), m => m.Metric == CoreMetric.Heartbeat);
        Assert.DoesNotContain(effects, e => e is ReportState);
    }

    [Fact]
    public void The_state_report_goes_out_before_the_reply_it_describes()
    {
        // Found by CI (HostingTests): a client that got its LockAcquired and at once asked the manager for the lock's
        // status could be answered before the manager heard the lock was held, and saw no fencing token. The state is
        // reported first in the step, so whoever hears a reply and then asks the manager finds the state it describes.
        var core = new CoreHarness();
        core.Acquire("holder");
        var granted = core.Answer();
        AssertReportedBefore<LockAcquired>(granted, LockState.Held);

        core.Step(new ReleaseInput("holder", null));
        AssertReportedBefore<LockReleased>(core.Answer(), LockState.Idle);

        static void AssertReportedBefore<TReply>(List<CoreEffect> effects, LockState state)
        {
            var report = effects.FindIndex(e => e is ReportState r && r.State == state);
            var reply = effects.FindIndex(e => e is SendTo { Message: TReply });
            Assert.InRange(report, 0, reply - 1);
        }
    }

    [Fact]
    public void Stop_heartbeat_lets_the_lock_expire_and_the_holder_hears_at_its_safe_deadline()
    {
        var core = Holding("holder");
        var stopped = core.Step(new StopHeartbeatInput("holder", null));
        Assert.Single(CoreHarness.SentTo(stopped, "holder").OfType<LockHeartbeatStopped>());

        var effects = core.WakeWhenAsked();

        Assert.Equal(1200 * Ms, core.Now);
        Assert.Equal(LockLossReason.LeaseExpired, Assert.Single(CoreHarness.SentTo(effects, "holder").OfType<LockLost>()).Reason);
        Assert.Empty(core.Pending);
        Assert.False((await_read(core))!.IsReleased);
    }

    [Fact]
    public void A_waiter_takes_over_only_after_the_lease_plus_drift_since_it_received_the_record()
    {
        var table = new InMemoryLockTable();
        var holder = new CoreHarness(table, owner: "node-a");
        holder.Acquire("a");
        holder.Answer();
        var waiter = new CoreHarness(table, owner: "node-b");
        waiter.Acquire("b", AcquireOptions.Wait(Timeout.InfiniteTimeSpan));
        waiter.Answer();
        Assert.Equal(LockState.Waiting, waiter.Core.State);

        // The holder is gone; the waiter reads the same version until lease + drift (2.2 s) has passed since its first read.
        while (waiter.Core.State == LockState.Waiting)
        {
            waiter.WakeWhenAsked();
            while (waiter.Pending.Count > 0)
            {
                waiter.Answer();
            }
        }

        Assert.Equal(LockState.Held, waiter.Core.State);
        Assert.True(waiter.Now >= TimeSpan.FromMilliseconds(2200), $"took over at {waiter.Now}");
        Assert.Equal(2, waiter.Core.FencingToken);
    }

    private static LockRecord? await_read(CoreHarness core) => core.Table.ReadAsync(new LockKey(CoreHarness.Key)).Result;
}
