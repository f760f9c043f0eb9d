using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;
using Xunit;

namespace DynamoLock.Actors.Tests.Core;

/// <summary>The session core step by step: one heartbeat per interval for the whole session, its safe deadline, and a session that is lost for good.</summary>
public sealed class SessionCoreTests
{
    private static readonly TimeSpan Millisecond = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void A_session_is_created_on_demand_and_trusted_for_lease_minus_margin_from_when_its_write_was_sent()
    {
        var session = new SessionHarness();
        Assert.False(session.Slot.Current.IsLive);

        var create = Assert.Single(session.Start().OfType<CallTable>());
        session.Advance(TimeSpan.FromMilliseconds(30));
        var changed = Assert.Single(session.Answer().OfType<SessionChanged>()).State;

        var request = Assert.IsType<AcquireCall>(create.Call).Request;
        Assert.StartsWith(LockSessions.KeyPrefix + "node-a/", request.Key.Key, StringComparison.Ordinal);
        Assert.Equal((request.Key.Key, 1L, true, session.SafeDuration), (changed.Key, changed.Generation, changed.IsLive, changed.SafeDeadline));
        Assert.Same(changed, session.Slot.Current);
        Assert.Equal(("node-a", session.Timing.LeaseDuration), (session.Record?.OwnerName, session.Record?.LeaseDuration));
        Assert.Empty(session.Start());
    }

    [Fact]
    public void One_heartbeat_per_interval_renews_the_whole_session()
    {
        var session = new SessionHarness();
        session.Start();
        session.Answer();

        for (var i = 1; i <= 10; i++)
        {
            var heartbeat = Assert.IsType<HeartbeatCall>(Assert.Single(session.WakeWhenAsked().OfType<CallTable>()).Call).Request;
            Assert.False(heartbeat.ReturnData);
            var sentAt = session.Now;
            session.Advance(TimeSpan.FromMilliseconds(20));
            Assert.Empty(session.Answer().OfType<SessionChanged>());
            var renewed = session.Slot.Current;
            Assert.Equal((1L, true, sentAt + session.SafeDuration), (renewed.Generation, renewed.IsLive, renewed.SafeDeadline));
            Assert.Equal(session.Timing.HeartbeatInterval!.Value * i, sentAt);
        }

        Assert.Equal(11, session.Effects.OfType<CallTable>().Count());
    }

    [Fact]
    public void A_wake_up_that_comes_early_asks_for_the_wake_up_again()
    {
        // Found by the chaos soak (seed 42, clock drift 0.05): on a node whose clock runs slow, the scheduler's timer (real
        // time) fired before the heartbeat was due on the node's clock; the core did nothing and, thinking its wake-up was
        // still pending, asked for none. The session was never renewed, and the locks under it, which have no timer of
        // their own, were held past the session's safe deadline while a waiter expired it and took them over.
        var session = new SessionHarness();
        session.Start();
        session.Answer();
        var due = session.Effects.OfType<WakeAt>().Last().At!.Value;

        session.AdvanceTo(due - Millisecond);
        var early = session.Step(WakeInput.Instance);

        Assert.Empty(early.OfType<CallTable>());
        Assert.Equal(due, Assert.Single(early.OfType<WakeAt>()).At);
        Assert.IsType<HeartbeatCall>(Assert.Single(session.WakeWhenAsked().OfType<CallTable>()).Call);
    }

    [Fact]
    public void A_heartbeat_whose_answer_was_lost_is_retried_as_the_same_write_and_the_session_lives_on()
    {
        var session = new SessionHarness();
        session.Start();
        session.Answer();
        session.WakeWhenAsked();
        var first = session.TakePending();
        CoreHarness.Execute(session.Table, first);
        session.Step(new TableFailed(first.Op, new LockTableUnavailableException("lost") { OutcomeUnknown = true }));

        var retry = Assert.Single(session.WakeWhenAsked().OfType<CallTable>());
        Assert.Equal(((HeartbeatCall)first.Call).Request, ((HeartbeatCall)retry.Call).Request);
        session.Answer();
        var renewed = session.Slot.Current;
        Assert.True(renewed.IsLive);
        Assert.Equal(session.Timing.HeartbeatInterval!.Value + session.SafeDuration, renewed.SafeDeadline);
    }

    [Fact]
    public void A_session_not_renewed_by_its_safe_deadline_is_lost_and_the_next_one_is_a_new_record()
    {
        var session = new SessionHarness();
        session.Start();
        session.Answer();
        var firstKey = session.Core.Key;
        session.WakeWhenAsked();
        var unanswered = session.TakePending();

        var lost = session.WakeWhenAsked();

        Assert.Equal(session.SafeDuration, session.Now);
        var state = Assert.Single(lost.OfType<SessionChanged>()).State;
        Assert.Equal((false, LockLossReason.LeaseExpired, 1L), (state.IsLive, state.LossReason, state.Generation));
        var next = Assert.IsType<AcquireCall>(Assert.Single(lost.OfType<CallTable>()).Call).Request;
        Assert.NotEqual(firstKey, next.Key.Key);

        // The late answer of the old heartbeat changes nothing; the new session is the next generation.
        Assert.Empty(session.Step(CoreHarness.Execute(session.Table, unanswered)).OfType<SessionChanged>());
        Assert.Equal((2L, true), (Assert.Single(session.Answer().OfType<SessionChanged>()).State.Generation, session.Slot.Current.IsLive));
    }

    [Fact]
    public void A_session_a_waiter_expired_is_never_renewed_and_every_lock_under_it_is_lost_at_once()
    {
        var session = new SessionHarness();
        session.Start();
        session.Answer();
        var expired = session.Record!;
        Assert.IsType<ReleaseResult.Released>(session.Release(new ReleaseLockRequest(expired.Key, expired.OwnerName, expired.RecordVersionNumber)));

        session.WakeWhenAsked();
        var effects = session.Answer();

        var state = Assert.Single(effects.OfType<SessionChanged>()).State;
        Assert.Equal((false, LockLossReason.TakenOver), (state.IsLive, state.LossReason));
        Assert.True(session.Read(expired.Key)?.IsReleased);
        Assert.NotEqual(expired.Key, Assert.IsType<AcquireCall>(Assert.Single(effects.OfType<CallTable>()).Call).Request.Key);
    }

    [Fact]
    public void A_session_created_after_its_safe_deadline_is_not_used()
    {
        var session = new SessionHarness();
        session.Start();
        session.Advance(session.SafeDuration);

        var effects = session.Answer();

        Assert.Empty(effects.OfType<SessionChanged>());
        Assert.IsType<AcquireCall>(Assert.Single(effects.OfType<CallTable>()).Call);
        Assert.False(session.Slot.Current.IsLive);
    }

    [Fact]
    public void A_missing_table_is_reported_and_a_later_demand_tries_again()
    {
        var session = new SessionHarness();
        var create = Assert.Single(session.Start().OfType<CallTable>());
        session.TakePending();

        var failed = Assert.Single(session.Step(new TableFailed(create.Op, new LockTableNotFoundException("locks", "no table"))).OfType<SessionChanged>()).State;

        Assert.Equal((false, typeof(LockTableNotFoundException)), (failed.IsLive, failed.Problem?.GetType()));
        Assert.Equal(SessionCore.SessionPhase.Idle, session.Core.Phase);
        Assert.IsType<AcquireCall>(Assert.Single(session.Start().OfType<CallTable>()).Call);
    }

    [Fact]
    public void Closing_deletes_the_record_once_a_heartbeat_in_flight_is_answered()
    {
        var session = new SessionHarness();
        session.Start();
        session.Answer();
        session.WakeWhenAsked();

        Assert.Empty(session.Step(new CloseSessionInput(DeleteRecord: true)).OfType<CallTable>());
        var delete = Assert.IsType<ReleaseCall>(Assert.Single(session.Answer().OfType<CallTable>()).Call).Request;
        session.Answer();

        Assert.True(delete.DeleteRecord);
        Assert.Null(session.Read(delete.Key));
        Assert.Equal(SessionCore.SessionPhase.Closed, session.Core.Phase);
        Assert.False(session.Slot.Current.IsLive);
        Assert.Empty(session.Step(WakeInput.Instance).OfType<CallTable>());
    }
}
