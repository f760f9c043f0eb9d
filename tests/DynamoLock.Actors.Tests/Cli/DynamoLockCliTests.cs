using System.Diagnostics;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Cli;

/// <summary>The <c>dynamolock</c> tool end to end: separate processes against the real local DynamoDB.</summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoLockCliTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : IClassFixture<DynamoDbTableFixture>, IDisposable
{
    private readonly DynamoLockCli _cli = new();
    private readonly string _workDir = Directory.CreateTempSubdirectory("dynamolock-cli-").FullName;

    public void Dispose()
    {
        _cli.Dispose();
        Directory.Delete(_workDir, recursive: true);
    }

    private string[] Table => ["--endpoint", fixture.Server.Endpoint, "--table", fixture.Table.TableName];

    private static string NewKey() => $"cli/{Guid.NewGuid():N}";

    private string[] Run(string key, string lease, string wait, string script) =>
        ["run", "--key", key, "--lease", lease, "--wait", wait, .. Table, "--", "sh", "-c", script];

    private static async Task WaitForLineAsync(string file, string text, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (!(File.Exists(file) && (await File.ReadAllTextAsync(file)).Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < timeout, $"'{text}' did not appear in {file}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Two_runs_on_the_same_key_serialise_and_their_tokens_increase()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "log");
        var script = $"echo start $DYNAMOLOCK_KEY $DYNAMOLOCK_FENCING_TOKEN >> {log}; sleep 1; echo end $DYNAMOLOCK_FENCING_TOKEN >> {log}";
        var first = _cli.Start(Run(key, "5s", "30s", script));
        await WaitForLineAsync(log, "start", TimeSpan.FromSeconds(30));

        var second = await _cli.RunAsync(Run(key, "5s", "30s", script));
        var firstResult = await DynamoLockCli.WaitAsync(first.Process, first.Output, first.Error);

        Assert.Equal(0, firstResult.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal([$"start {key} 1", "end 1", $"start {key} 2", "end 2"], await File.ReadAllLinesAsync(log));
    }

    [Fact]
    public async Task The_commands_exit_code_passes_through()
    {
        var result = await _cli.RunAsync(Run(NewKey(), "5s", "5s", "exit 7"));

        Assert.Equal(7, result.ExitCode);
    }

    [Fact]
    public async Task A_killed_holders_lock_is_taken_after_its_lease()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "killed");
        var holder = _cli.Start(Run(key, "2s", "5s", $"echo holding >> {log}; sleep 60"));
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));

        holder.Process.Kill(entireProcessTree: true);
        var killed = Stopwatch.GetTimestamp();
        var next = await _cli.RunAsync(Run(key, "2s", "30s", "echo token=$DYNAMOLOCK_FENCING_TOKEN"));
        var after = Stopwatch.GetElapsedTime(killed);

        output.WriteLine($"taken over {after.TotalMilliseconds:F0} ms after the holder was killed (lease 2 s, heartbeat 500 ms)");
        Assert.Equal(0, next.ExitCode);
        Assert.Contains("token=2", next.Output, StringComparison.Ordinal);
        Assert.True(after >= TimeSpan.FromSeconds(1.5), $"taken over after only {after}");
    }

    [Fact]
    public async Task A_lost_lock_terminates_the_command_and_exits_4()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "lost");
        var holder = _cli.Start(Run(key, "2s", "5s", $"trap 'echo terminated >> {log}; exit 143' TERM; echo holding >> {log}; while true; do sleep 0.1; done"));
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));

        var release = await _cli.RunAsync(["release", "--force", key, "--yes", .. Table]);
        var lost = await DynamoLockCli.WaitAsync(holder.Process, holder.Output, holder.Error);

        Assert.Equal(0, release.ExitCode);
        Assert.Contains("Released", release.Output, StringComparison.Ordinal);
        Assert.Equal(4, lost.ExitCode);
        Assert.Contains("was lost (ReleasedByOther)", lost.Error, StringComparison.Ordinal);
        Assert.Contains("terminated", await File.ReadAllTextAsync(log), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lost_lock_also_stops_what_the_command_started()
    {
        var key = NewKey();
        var pidFile = Path.Combine(_workDir, "grandchild");
        var holder = _cli.Start(Run(key, "2s", "5s", $"sleep 301 & echo $! > {pidFile}; wait"));
        await WaitForLineAsync(pidFile, "\n", TimeSpan.FromSeconds(30));
        var grandchild = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        var release = await _cli.RunAsync(["release", "--force", key, "--yes", .. Table]);
        var lost = await DynamoLockCli.WaitAsync(holder.Process, holder.Output, holder.Error);

        Assert.Equal(0, release.ExitCode);
        Assert.Equal(4, lost.ExitCode);
        Assert.False(Directory.Exists($"/proc/{grandchild}") && !File.ReadAllText($"/proc/{grandchild}/stat").Contains(") Z ", StringComparison.Ordinal), $"the command's child {grandchild} outlived the lock");
    }

    [Fact]
    public async Task Ctrl_C_stops_the_command_releases_the_lock_and_exits_130()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "interrupted");
        var holder = _cli.Start(Run(key, "5s", "5s", $"trap 'echo terminated >> {log}; exit 143' TERM; echo holding >> {log}; while true; do sleep 0.1; done"));
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));

        using (var interrupt = Process.Start("kill", ["-INT", holder.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await interrupt.WaitForExitAsync();
        }

        var result = await DynamoLockCli.WaitAsync(holder.Process, holder.Output, holder.Error);
        var inspect = await _cli.RunAsync(["inspect", key, "--output", "json", .. Table]);

        Assert.Equal(130, result.ExitCode);
        Assert.Contains("terminated", await File.ReadAllTextAsync(log), StringComparison.Ordinal);
        Assert.Contains("\"state\":\"released\"", inspect.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lock_held_elsewhere_is_not_acquired_within_the_wait_and_exits_3()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "held");
        _cli.Start(Run(key, "5s", "5s", $"echo holding >> {log}; sleep 60"));
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));

        var result = await _cli.RunAsync(Run(key, "5s", "300ms", "true"));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("was not acquired", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_and_inspect_show_the_lock_as_json()
    {
        var key = NewKey();
        Assert.Equal(0, (await _cli.RunAsync(Run(key, "5s", "5s", "true"))).ExitCode);

        var inspect = await _cli.RunAsync(["inspect", key, "--output", "json", .. Table]);
        var list = await _cli.RunAsync(["list", "--output", "json", .. Table]);
        var missing = await _cli.RunAsync(["inspect", NewKey(), .. Table]);

        Assert.Equal(0, inspect.ExitCode);
        Assert.Contains($"\"key\":\"{key}\"", inspect.Output, StringComparison.Ordinal);
        Assert.Contains("\"state\":\"released\"", inspect.Output, StringComparison.Ordinal);
        Assert.Contains("\"fencingToken\":1", inspect.Output, StringComparison.Ordinal);
        Assert.Contains($"\"key\":\"{key}\"", list.Output, StringComparison.Ordinal);
        Assert.Equal(1, missing.ExitCode);
    }

    [Fact]
    public async Task A_table_with_another_key_schema_gets_a_clear_error()
    {
        var tableName = DynamoDbTableFixture.UniqueTableName("other-schema");
        await fixture.Client.CreateTableAsync(new Amazon.DynamoDBv2.Model.CreateTableRequest
        {
            TableName = tableName,
            AttributeDefinitions = [new() { AttributeName = "id", AttributeType = Amazon.DynamoDBv2.ScalarAttributeType.S }],
            KeySchema = [new() { AttributeName = "id", KeyType = Amazon.DynamoDBv2.KeyType.HASH }],
            BillingMode = Amazon.DynamoDBv2.BillingMode.PAY_PER_REQUEST,
        });

        var wrongSchema = await _cli.RunAsync(["run", "--key", NewKey(), "--wait", "0", "--endpoint", fixture.Server.Endpoint, "--table", tableName, "--", "true"]);
        var createOnWrongSchema = await _cli.RunAsync(["create-table", "--endpoint", fixture.Server.Endpoint, "--table", tableName]);

        Assert.Equal(5, wrongSchema.ExitCode);
        Assert.Contains("key", wrongSchema.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(5, createOnWrongSchema.ExitCode);
        Assert.Contains("partition key 'id'", createOnWrongSchema.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", wrongSchema.Error + createOnWrongSchema.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run -- true", "--key")]
    [InlineData("run --key k --lease 0s -- true", "--lease")]
    [InlineData("run --key k --lease soon -- true", "--lease")]
    [InlineData("run --key k --lease 4s --wait 0 -- true", "")]
    [InlineData("run --key k --lease 2s --grace 1s -- true", "--grace")]
    [InlineData("run --key k --lease 99999999999h -- true", "--lease")]
    [InlineData("run --key k -- no-such-command-anywhere", "no-such-command-anywhere")]
    [InlineData("list --output xml", "xml")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task Bad_arguments_exit_2_with_a_clear_message(string args, string named)
    {
        var result = await _cli.RunAsync([.. args.Split(' '), "--endpoint", "http://127.0.0.1:1"]);

        if (named.Length == 0)
        {
            // Valid arguments against an unreachable endpoint: a table error, one line, no stack trace.
            Assert.Equal(5, result.ExitCode);
            Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
            return;
        }

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }
}
