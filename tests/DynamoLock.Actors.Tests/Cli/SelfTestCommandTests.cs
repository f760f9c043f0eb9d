using System.Diagnostics;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Cli;

/// <summary><c>dynamolock selftest</c> end to end against the local server (dynalite, or DynamoDB Local in CI's second pass).</summary>
[Trait("Category", "DynamoDB")]
public sealed class SelfTestCommandTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : IClassFixture<DynamoDbTableFixture>, IDisposable
{
    private readonly DynamoLockCli _cli = new();

    public void Dispose() => _cli.Dispose();

    private string[] At(string table) => ["--endpoint", fixture.Server.Endpoint, "--table", table];

    [Fact]
    public async Task Every_promise_holds_on_the_local_server_and_nothing_is_left_behind()
    {
        var table = await fixture.CreateTableAsync(new DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("selftest") });

        var started = Stopwatch.GetTimestamp();
        var result = await _cli.RunAsync(["selftest", .. At(table.TableName)]);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var left = await _cli.RunAsync(["list", "--output", "json", .. At(table.TableName)]);

        output.WriteLine($"{fixture.Server.Description}, {elapsed.TotalSeconds:0.0} s with the process start:");
        output.WriteLine(result.Output);
        output.WriteLine(result.Error);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.Equal(string.Empty, result.Error);
        Assert.DoesNotContain("FAIL", result.Output, StringComparison.Ordinal);
        Assert.StartsWith($"dynamolock selftest: table '{table.TableName}' at {fixture.Server.Endpoint}; keys under dynamolock-selftest/", result.Output, StringComparison.Ordinal);
        Assert.StartsWith("1 (UpdateItem) in 52 of 52 acquires", Line(result, "PASS", "requests per uncontended acquire"), StringComparison.Ordinal);
        Assert.StartsWith("1 (UpdateItem) in 3 of 3 heartbeats", Line(result, "PASS", "requests per heartbeat"), StringComparison.Ordinal);
        Assert.StartsWith("1 (UpdateItem) in 52 of 52 releases", Line(result, "PASS", "requests per release"), StringComparison.Ordinal);
        Assert.StartsWith("1 (UpdateItem) in 1 of 1 takeovers", Line(result, "PASS", "requests per takeover"), StringComparison.Ordinal);
        var contended = Line(result, "PASS", "requests per contended acquire");
        if (fixture.Server.ReturnsItemOnConditionFailure)
        {
            Assert.StartsWith("1 (UpdateItem) in 3 of 3: the refused write brought back the holder's item", contended, StringComparison.Ordinal);
        }
        else
        {
            Assert.StartsWith(
                "2 (UpdateItem + GetItem) in 3 of 3: this server does not return the holder's item with a failed condition, as DynamoDB does",
                contended,
                StringComparison.Ordinal);
            Assert.EndsWith("on DynamoDB this is 1", contended, StringComparison.Ordinal);
        }

        Assert.StartsWith("3 of 3 acquires by another owner were refused and told the holder", Line(result, "PASS", "second owner refused while held"), StringComparison.Ordinal);
        Assert.StartsWith("5 of 5 refused", Line(result, "PASS", "stale heartbeat and release refused"), StringComparison.Ordinal);
        Assert.StartsWith("a takeover conditioned on a stale record version was refused", Line(result, "PASS", "stale takeover refused"), StringComparison.Ordinal);
        Assert.StartsWith("108 of 108 consistent reads right after a write saw that write", Line(result, "PASS", "consistent read after write"), StringComparison.Ordinal);
        Assert.StartsWith("1 -> 2 (takeover) -> 3 (release, acquire); 50 rounds of acquire and release on another key: 1 to 50", Line(result, "PASS", "fencing tokens strictly increase"), StringComparison.Ordinal);
        Assert.StartsWith("the LockManager sent its takeover ", Line(result, "PASS", "takeover only after the lease"), StringComparison.Ordinal);
        Assert.Contains("not an expiry time", Line(result, "NOTE", "clock independence"), StringComparison.Ordinal);
        Assert.Contains("not used by the protocol", Line(result, "NOTE", "clock independence"), StringComparison.Ordinal);
        Assert.Matches(@"^p50 [0-9.]+ms, p90 [0-9.]+m?s, p99 [0-9.]+m?s, max [0-9.]+m?s over 50 rounds", Line(result, "NOTE", "latency of uncontended acquire"));
        Assert.Matches(@"^p50 [0-9.]+ms, p90 [0-9.]+m?s, p99 [0-9.]+m?s, max [0-9.]+m?s over 50 rounds", Line(result, "NOTE", "latency of release"));
        Assert.Matches(@"\nselftest: 11 passed, 0 failed, 3 notes in [0-9.]+s; deleted the self-test's 3 key\(s\) under dynamolock-selftest/[0-9a-f]{8}/", result.Output);
        Assert.Equal("[]", left.Output.Trim());
    }

    [Theory]
    [InlineData("orders/nightly", "other locks (such as 'orders/nightly')")]
    [InlineData("dynamolock/session/node-1/0123456789abcdef", "the session record 'dynamolock/session/node-1/0123456789abcdef'")]
    public async Task A_table_that_holds_another_record_is_refused_and_left_as_it_was(string otherKey, string named)
    {
        var table = await fixture.CreateTableAsync(new DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("selftest-shared") });
        var other = ((AcquireResult.Granted)await table.TryAcquireAsync(new AcquireLockRequest(new LockKey(otherKey), "someone-else", TimeSpan.FromMinutes(5)))).Record;

        var refused = await _cli.RunAsync(["selftest", .. At(table.TableName)]);

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal(string.Empty, refused.Output);
        var line = Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"table '{table.TableName}' holds {named}", line, StringComparison.Ordinal);
        Assert.Contains("pass --allow-shared-table to run it here", line, StringComparison.Ordinal);
        var only = Assert.Single((await table.ListAsync(new ListLocksRequest())).Records);
        Assert.True(only.IsWrittenBy("someone-else", other.RecordVersionNumber) && only.IsHeld, $"{only}");
    }

    [Fact]
    public async Task With_allow_shared_table_it_runs_beside_another_lock_and_deletes_only_its_own_keys()
    {
        var table = await fixture.CreateTableAsync(new DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("selftest-allowed") });
        var other = ((AcquireResult.Granted)await table.TryAcquireAsync(new AcquireLockRequest(new LockKey("orders/nightly"), "someone-else", TimeSpan.FromMinutes(5)))).Record;

        var result = await _cli.RunAsync(["selftest", "--allow-shared-table", "--samples", "3", "--output", "json", .. At(table.TableName)]);

        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.Contains("\"failed\":0", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"removedKeys\":3", result.Output, StringComparison.Ordinal);
        var only = Assert.Single((await table.ListAsync(new ListLocksRequest())).Records);
        Assert.True(only.IsWrittenBy("someone-else", other.RecordVersionNumber) && only.IsHeld, $"{only}");
    }

    [Fact]
    public async Task A_missing_table_is_one_line_that_says_how_to_create_it_and_exits_5()
    {
        var missing = "missing-" + Guid.NewGuid().ToString("N");

        var result = await _cli.RunAsync(["selftest", .. At(missing)]);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(string.Empty, result.Output);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"dynamolock create-table --table {missing}", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--samples 0", "--samples must be between 1 and 10000")]
    [InlineData("--lease 500ms", "--lease must be between 1s and 1m")]
    [InlineData("--lease 2m", "--lease must be between 1s and 1m")]
    public async Task Bad_arguments_exit_2_and_name_the_option(string args, string message)
    {
        var result = await _cli.RunAsync(["selftest", .. args.Split(' '), .. At(fixture.Table.TableName)]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    /// <summary>The figures of the report line <paramref name="name"/>, which must have <paramref name="verdict"/>.</summary>
    private static string Line(CliResult result, string verdict, string name)
    {
        var lines = result.Output.Split(Environment.NewLine).Where(l => l.Length > 6 && l[6..].StartsWith(name + "  ", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.StartsWith(verdict + "  ", line, StringComparison.Ordinal);
        return line[6..][name.Length..].TrimStart();
    }
}
