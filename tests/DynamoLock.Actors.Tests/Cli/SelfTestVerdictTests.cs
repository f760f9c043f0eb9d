using DynamoLock.Actors.Host.SelfTest;
using Xunit;

namespace DynamoLock.Actors.Tests.Cli;

/// <summary>
/// How <c>dynamolock selftest</c> judges the request counts it sees: the local servers only ever show the passing shapes,
/// so the failing ones are judged here.
/// </summary>
public sealed class SelfTestVerdictTests
{
    private static Dictionary<string, int> Counts(params (string Operation, int Count)[] counts) => counts.ToDictionary(c => c.Operation, c => c.Count);

    private static RequestTally Tally(int runs, Dictionary<string, int> counts, params Dictionary<string, int>[] others)
    {
        var tally = new RequestTally();
        for (var i = 0; i < runs; i++)
        {
            tally.Add(counts);
        }

        foreach (var other in others)
        {
            tally.Add(other);
        }

        return tally;
    }

    [Fact]
    public void A_contended_acquire_of_one_request_or_of_a_write_and_a_read_passes_and_says_which()
    {
        var dynamoDb = Tally(3, Counts(("UpdateItem", 1))).JudgeContended("contended");
        var dynalite = Tally(3, Counts(("UpdateItem", 1), ("GetItem", 1))).JudgeContended("contended");

        Assert.Equal(SelfTestVerdict.Pass, dynamoDb.Verdict);
        Assert.StartsWith("1 (UpdateItem) in 3 of 3: the refused write brought back the holder's item", dynamoDb.Figures, StringComparison.Ordinal);
        Assert.Equal(SelfTestVerdict.Pass, dynalite.Verdict);
        Assert.StartsWith("2 (UpdateItem + GetItem) in 3 of 3: this server does not return the holder's item with a failed condition, as DynamoDB does", dynalite.Figures, StringComparison.Ordinal);
        Assert.EndsWith("on DynamoDB this is 1", dynalite.Figures, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UpdateItem", 2, null, 0)]
    [InlineData("UpdateItem", 1, "GetItem", 2)]
    [InlineData("GetItem", 1, null, 0)]
    public void Any_other_contended_acquire_fails(string operation, int count, string? second, int secondCount)
    {
        var counts = second is null ? Counts((operation, count)) : Counts((operation, count), (second, secondCount));

        var check = Tally(3, counts).JudgeContended("contended");

        Assert.Equal(SelfTestVerdict.Fail, check.Verdict);
        Assert.Contains("got " + RequestTally.Describe(counts), check.Figures, StringComparison.Ordinal);
    }

    [Fact]
    public void A_contended_acquire_that_changes_shape_between_runs_fails()
    {
        var check = Tally(2, Counts(("UpdateItem", 1)), Counts(("UpdateItem", 1), ("GetItem", 1))).JudgeContended("contended");

        Assert.Equal(SelfTestVerdict.Fail, check.Verdict);
    }

    [Fact]
    public void One_request_each_passes_and_a_few_sdk_retries_of_the_same_request_are_said_but_pass()
    {
        var exact = Tally(50, Counts(("UpdateItem", 1))).JudgeOne("acquire", "UpdateItem", "acquires");
        var retried = Tally(49, Counts(("UpdateItem", 1)), Counts(("UpdateItem", 2))).JudgeOne("acquire", "UpdateItem", "acquires");

        Assert.Equal(SelfTestVerdict.Pass, exact.Verdict);
        Assert.Equal("1 (UpdateItem) in 50 of 50 acquires", exact.Figures);
        Assert.Equal(SelfTestVerdict.Pass, retried.Verdict);
        Assert.Contains("1 retried by the AWS SDK (2 (UpdateItem x2)", retried.Figures, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_requests_every_time_or_another_request_fails()
    {
        var doubled = Tally(50, Counts(("UpdateItem", 2))).JudgeOne("acquire", "UpdateItem", "acquires");
        var withRead = Tally(49, Counts(("UpdateItem", 1)), Counts(("UpdateItem", 1), ("GetItem", 1))).JudgeOne("acquire", "UpdateItem", "acquires");

        Assert.Equal(SelfTestVerdict.Fail, doubled.Verdict);
        Assert.Equal(SelfTestVerdict.Fail, withRead.Verdict);
        Assert.Contains("1 sent 2 (UpdateItem + GetItem)", withRead.Figures, StringComparison.Ordinal);
    }
}
