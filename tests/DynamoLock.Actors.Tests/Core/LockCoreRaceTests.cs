using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;
using Xunit;

namespace DynamoLock.Actors.Tests.Core;

/// <summary>
/// Requests that arrive while a write is in flight, step by step: the races a review of the state machine found (they
/// were real-time tests with a frozen table in LockActorRaceTests; here each interleaving is exact).
/// </summary>
public sealed class LockCoreRaceTests
{
    private static readonly AcquireOptions ShortLease = new() { WaitTimeout = Timeout.InfiniteTimeSpan, LeaseDuration = TimeSpan.FromSeconds(2), HeartbeatInterval = TimeSpan.FromMilliseconds(300) };
    private static readonly AcquireOptions LongLease = new() { WaitTimeout = Timeout.InfiniteTimeSpan, LeaseDuration = TimeSpan.FromSeconds(10), HeartbeatInterval = TimeSpan.FromSeconds(3) };

    private static LockRecord Stored(CoreHarness core) => core.Table.ReadAsync(new LockKey(CoreHarness.Key)).Result!;

    private static List<CoreEffect> AnswerAll(CoreHarness core)
    {
        var effects = new List<CoreEffect>();
        while (core.Pending.Count > 0)
        {
            effects.AddRange(core.Answer());
        }

        return effects;
    }

    [Fact]
    public void A_grant_written_for_a_requester_that_left_is_not_passed_on_with_its_lease()
    {
        var core = new CoreHarness();
        core.Acquire("first", ShortLease);
        core.Acquire("second", LongLease);
        var cancelled = core.Step(new ReleaseInput("first", null));
        Assert.Equal(LockRefusalKind.Cancelled, Assert.Single(CoreHarness.SentTo(cancelled, "first").OfType<LockNotHeld>()).Kind);

        var effects = AnswerAll(core);

        var granted = Assert.Single(CoreHarness.SentTo(effects, "second").OfType<LockAcquired>());
        Assert.Empty(CoreHarness.SentTo(effects, "first"));
        Assert.Equal(TimeSpan.FromSeconds(10), Stored(core).LeaseDuration);
        Assert.Equal(2, granted.FencingToken); // token 1 was written for the first requester and given back
    }

    [Fact]
    public void A_hand_off_written_for_a_requester_that_left_is_not_passed_on_with_its_lease()
    {
        var core = new CoreHarness();
        core.Acquire("holder", new AcquireOptions { LeaseDuration = TimeSpan.FromSeconds(20), HeartbeatInterval = TimeSpan.FromSeconds(5) });
        core.Answer();
        core.Acquire("leaving", ShortLease);
        core.Acquire("staying", LongLease);
        core.Step(new ReleaseInput("holder", null));
        Assert.True(Assert.IsType<HeartbeatCall>(Assert.Single(core.Pending).Call).Request.IssueNewFencingToken);
        core.Step(new ReleaseInput("leaving", null));

        var effects = AnswerAll(core);

        Assert.Single(CoreHarness.SentTo(effects, "holder").OfType<LockReleased>());
        var granted = Assert.Single(CoreHarness.SentTo(effects, "staying").OfType<LockAcquired>());
        Assert.Empty(CoreHarness.SentTo(effects, "leaving").OfType<LockAcquired>());
        Assert.Equal(TimeSpan.FromSeconds(10), Stored(core).LeaseDuration);
        Assert.Equal(granted.FencingToken, Stored(core).FencingToken);
    }

    [Fact]
    public void A_holder_that_releases_and_acquires_again_gets_a_new_grant()
    {
        var core = new CoreHarness();
        core.Acquire("holder");
        core.Answer();
        core.Step(new ReleaseInput("holder", null));
        core.Acquire("holder", AcquireOptions.Wait(Timeout.InfiniteTimeSpan));

        var messages = CoreHarness.SentTo(AnswerAll(core), "holder").ToList();

        Assert.Equal([new LockReleased(CoreHarness.Key, 1), new LockAcquired(CoreHarness.Key, 2, ReadOnlyMemory<byte>.Empty)], messages.Select(m => m is LockAcquired a ? a with { Data = ReadOnlyMemory<byte>.Empty } : m));
    }

    [Fact]
    public void A_holder_whose_own_release_is_in_flight_is_not_told_it_was_revoked()
    {
        var core = new CoreHarness();
        core.Acquire("holder");
        core.Answer();
        core.Step(new ReleaseInput("holder", null));
        var shutdown = core.Step(new ReleaseAllInput("shutdown"));
        Assert.Empty(CoreHarness.SentTo(shutdown, "holder"));

        var effects = AnswerAll(core);

        Assert.Equal([new LockReleased(CoreHarness.Key, 1)], CoreHarness.SentTo(effects, "holder"));
        Assert.Contains(effects, e => e is AllReleased { ReplyTo: "shutdown" });
    }

    [Fact]
    public void A_release_by_fencing_token_from_another_actor_tells_the_holder_before_any_write()
    {
        var core = new CoreHarness();
        core.Acquire("holder");
        core.Answer();

        var effects = core.Step(new ReleaseInput("operator", core.Core.FencingToken));

        Assert.Equal(LockLossReason.Revoked, Assert.Single(CoreHarness.SentTo(effects, "holder").OfType<LockLost>()).Reason);
        Assert.Empty(core.Pending);
        Assert.False(Stored(core).IsReleased);
    }
}
