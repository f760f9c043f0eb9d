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
        // A 5 s lease gives the trap a 500 ms grace: on a loaded machine 200 ms (a 2 s lease's) was sometimes too short
        // for the shell to run its trap before SIGKILL.
        var holder = _cli.Start(Run(key, "5s", "5s", $"trap 'echo terminated >> {log}; exit 143' TERM; echo holding >> {log}; while true; do sleep 0.1; done"));
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

    [Fact]
    public async Task A_missing_table_prints_nothing_on_stdout_one_line_on_stderr_and_exits_5()
    {
        var result = await _cli.RunAsync(["run", "--endpoint", fixture.Server.Endpoint, "--table", "nope-" + Guid.NewGuid().ToString("N"), "--key", "k", "--", "echo", "hi"]);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(string.Empty, result.Output);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("dynamolock create-table --table nope-", line, StringComparison.Ordinal);
        Assert.DoesNotContain("EnsureTableAsync", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_works_with_only_AWS_ENDPOINT_URL_DYNAMODB_and_no_credentials()
    {
        var key = NewKey();
        Assert.Equal(0, (await _cli.RunAsync(Run(key, "5s", "5s", "true"))).ExitCode);

        var result = await _cli.RunAsync(
            new Dictionary<string, string?>
            {
                ["AWS_ACCESS_KEY_ID"] = null,
                ["AWS_SECRET_ACCESS_KEY"] = null,
                ["AWS_REGION"] = null,
                ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_workDir, "no-credentials"),
                ["AWS_CONFIG_FILE"] = Path.Combine(_workDir, "no-config"),
                ["AWS_EC2_METADATA_DISABLED"] = "true",
                ["AWS_ENDPOINT_URL_DYNAMODB"] = fixture.Server.Endpoint,
            },
            "list", "--table", fixture.Table.TableName);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(key, result.Output, StringComparison.Ordinal);
        // Other tests leave stale records in the shared table, so the stale note may be there, but no error.
        Assert.DoesNotContain("dynamolock list:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_credentials_against_a_real_endpoint_are_one_line_and_exit_5()
    {
        var result = await _cli.RunAsync(
            new Dictionary<string, string?>
            {
                ["AWS_ACCESS_KEY_ID"] = null,
                ["AWS_SECRET_ACCESS_KEY"] = null,
                ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_workDir, "no-credentials"),
                ["AWS_CONFIG_FILE"] = Path.Combine(_workDir, "no-config"),
                ["AWS_EC2_METADATA_DISABLED"] = "true",
            },
            "list", "--endpoint", "http://dynamodb.invalid:8000", "--table", fixture.Table.TableName);

        Assert.Equal(5, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("AWS_ACCESS_KEY_ID", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_command_after_the_separator_is_named()
    {
        var withSeparator = await _cli.RunAsync(["run", "--key", "k", "--"]);
        var withoutSeparator = await _cli.RunAsync(["run", "--key", "k"]);

        Assert.Equal(2, withSeparator.ExitCode);
        Assert.Contains("no command to run: give it after --", withSeparator.Error, StringComparison.Ordinal);
        Assert.Equal(2, withoutSeparator.ExitCode);
        Assert.Contains("no command to run: give it after --", withoutSeparator.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_endpoint_without_a_scheme_is_a_usage_error_with_a_hint()
    {
        var result = await _cli.RunAsync(["list", "--endpoint", "localhost:8123"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("did you mean http://localhost:8123?", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_refusal_the_cli_can_produce_has_its_exit_code()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "kinds");
        _cli.Start(Run(key, "5s", "5s", $"echo holding >> {log}; sleep 60"));
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));

        var heldElsewhere = await _cli.RunAsync(Run(key, "5s", "0", "true"));                 // HeldElsewhere
        var waitTimedOut = await _cli.RunAsync(Run(key, "5s", "200ms", "true"));              // WaitTimedOut
        var invalidKey = await _cli.RunAsync(Run(new string('k', 3000), "5s", "0", "true"));  // InvalidRequest
        var missingTable = await _cli.RunAsync(["run", "--key", key, "--wait", "0", "--endpoint", fixture.Server.Endpoint, "--table", "missing-" + Guid.NewGuid().ToString("N"), "--", "true"]); // TableMissing
        var unavailable = await _cli.RunAsync(["run", "--key", key, "--wait", "0", "--endpoint", "http://127.0.0.1:1", "--table", fixture.Table.TableName, "--", "true"]); // TableUnavailable

        Assert.Equal(3, heldElsewhere.ExitCode);
        Assert.Equal(3, waitTimedOut.ExitCode);
        Assert.Equal(2, invalidKey.ExitCode);
        Assert.DoesNotContain("(Parameter", invalidKey.Error, StringComparison.Ordinal);
        Assert.Equal(5, missingTable.ExitCode);
        Assert.Equal(5, unavailable.ExitCode);
        Assert.All(new[] { heldElsewhere, waitTimedOut, invalidKey, missingTable, unavailable }, r => Assert.Equal(string.Empty, r.Output));
    }

    [Fact]
    public async Task Run_writes_nothing_of_its_own_on_stdout_even_with_verbose()
    {
        var result = await _cli.RunAsync(["run", "--key", NewKey(), "--verbose", .. Table, "--", "echo", "hi"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("hi" + Environment.NewLine, result.Output);
    }

    [Fact]
    public async Task A_waiting_run_says_who_holds_the_lock_with_verbose()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "waiting");
        _cli.Start(Run(key, "5s", "5s", $"echo holding >> {log}; sleep 60"));
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));

        var result = await _cli.RunAsync(["run", "--key", key, "--wait", "3s", "--verbose", .. Table, "--", "true"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"waiting for '{key}': held by", result.Error, StringComparison.Ordinal);
        Assert.Contains("last heartbeat", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_abandoned_lock_is_shown_stale_and_run_says_what_a_takeover_needs()
    {
        var key = NewKey();
        var log = Path.Combine(_workDir, "abandoned");
        var holder = _cli.Start(Run(key, "2s", "5s", $"echo holding >> {log}; sleep 60"));
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));
        holder.Process.Kill(entireProcessTree: true);

        // The record turns stale once its heartbeat is older than its lease: poll inspect for it, within a bound.
        var started = Stopwatch.GetTimestamp();
        CliResult inspect;
        while (!(inspect = await _cli.RunAsync(["inspect", key, "--output", "json", .. Table])).Output.Contains("\"state\":\"stale\"", StringComparison.Ordinal))
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30), $"never stale: {inspect.Output}");
        }

        var list = await _cli.RunAsync(["list", .. Table]);
        var run = await _cli.RunAsync(Run(key, "2s", "200ms", "true"));

        Assert.Contains("display hint", inspect.Error, StringComparison.Ordinal);
        Assert.Contains($"{key}\tstale\t", list.Output, StringComparison.Ordinal);
        Assert.Contains("display hint", list.Error, StringComparison.Ordinal);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains($"'{key}' looks abandoned (last heartbeat ", run.Error, StringComparison.Ordinal);
        Assert.Contains("lease 2s): taking it over needs --wait of at least 2.5s", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_release_that_fails_when_the_command_ends_is_reported_and_exits_6()
    {
        var table = await fixture.CreateTableAsync(new DynamoLock.Actors.Table.DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("release-fails") });
        var log = Path.Combine(_workDir, "release-fails");
        var go = Path.Combine(_workDir, "go");
        var key = NewKey();

        // A 60 s lease heartbeats every 15 s: the table is gone before the first heartbeat, so only the release meets it.
        var holder = _cli.Start(["run", "--key", key, "--lease", "60s", "--endpoint", fixture.Server.Endpoint, "--table", table.TableName, "--", "sh", "-c", $"echo holding >> {log}; while [ ! -e {go} ]; do sleep 0.05; done; exit 7"]);
        await WaitForLineAsync(log, "holding", TimeSpan.FromSeconds(30));
        await fixture.Client.DeleteTableAsync(table.TableName);
        await File.WriteAllTextAsync(go, "go");
        var result = await DynamoLockCli.WaitAsync(holder.Process, holder.Output, holder.Error);

        Assert.Equal(6, result.ExitCode);
        Assert.Contains($"could not release '{key}': ", result.Error, StringComparison.Ordinal);
        Assert.Contains("it expires 1m after its last heartbeat (the command exited with 7)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_shows_the_data_as_text_or_base64()
    {
        var textKey = NewKey();
        Assert.Equal(0, (await _cli.RunAsync([.. Run(textKey, "5s", "5s", "true")[..^4], "--data", "build 42", "--", "true"])).ExitCode);
        var binaryKey = new DynamoLock.Actors.Table.LockKey(NewKey());
        var granted = (DynamoLock.Actors.Table.AcquireResult.Granted)await fixture.Table.TryAcquireAsync(new DynamoLock.Actors.Table.AcquireLockRequest(binaryKey, "test", TimeSpan.FromSeconds(5)) { Data = [0xff, 0x00, 0xfe] });
        await fixture.Table.ReleaseAsync(new DynamoLock.Actors.Table.ReleaseLockRequest(binaryKey, "test", granted.Record.RecordVersionNumber));

        var text = await _cli.RunAsync(["inspect", textKey, .. Table]);
        var json = await _cli.RunAsync(["inspect", textKey, "--output", "json", .. Table]);
        var binary = await _cli.RunAsync(["inspect", binaryKey.Key, "--output", "json", .. Table]);

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("text: build 42", text.Output, StringComparison.Ordinal);
        Assert.Contains("\"data\":\"build 42\",\"dataEncoding\":\"utf8\"", json.Output, StringComparison.Ordinal);
        Assert.Contains("\"data\":\"/wD+\",\"dataEncoding\":\"base64\"", binary.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_of_a_free_key_and_inspect_of_a_missing_key_both_exit_1()
    {
        var free = NewKey();
        Assert.Equal(0, (await _cli.RunAsync(Run(free, "5s", "5s", "true"))).ExitCode);

        var releaseReleased = await _cli.RunAsync(["release", "--force", free, "--yes", .. Table]);
        var releaseMissing = await _cli.RunAsync(["release", "--force", NewKey(), "--yes", .. Table]);
        var inspectMissing = await _cli.RunAsync(["inspect", NewKey(), .. Table]);

        Assert.Equal(1, releaseReleased.ExitCode);
        Assert.Equal(1, releaseMissing.ExitCode);
        Assert.Equal(1, inspectMissing.ExitCode);
        Assert.Equal(string.Empty, releaseReleased.Output + releaseMissing.Output + inspectMissing.Output);
    }

    [Fact]
    public async Task List_in_a_pipe_is_tab_separated_one_record_a_line()
    {
        var key = NewKey() + "/" + new string('x', 120);
        Assert.Equal(0, (await _cli.RunAsync(Run(key, "5s", "5s", "true"))).ExitCode);

        var list = await _cli.RunAsync(["list", .. Table]);

        var lines = list.Output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("key\tstate\towner\tfencingToken\tleaseMs\theartbeatAgeMs\tdataBytes\tsession", lines[0]);
        Assert.Contains(lines, l => l.StartsWith(key + "\treleased\t", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_shows_a_session_held_lock_by_its_session_and_release_force_frees_it()
    {
        var key = NewKey();
        var session = new DynamoLock.Actors.Table.LockKey(DynamoLock.Actors.Table.LockSessions.NewSessionKey("cli-node"));
        var table = fixture.Table;
        var sessionRecord = ((DynamoLock.Actors.Table.AcquireResult.Granted)await table.TryAcquireAsync(new(session, "cli-node", TimeSpan.FromSeconds(20)))).Record;
        await table.TryAcquireAsync(new(new DynamoLock.Actors.Table.LockKey(key), "cli-node", TimeSpan.FromSeconds(20)) { SessionKey = session.Key });

        var held = await _cli.RunAsync(["list", .. Table]);
        var sessions = await _cli.RunAsync(["list", "--sessions", .. Table]);
        await table.ReleaseAsync(new(session, "cli-node", sessionRecord.RecordVersionNumber));
        var expired = await _cli.RunAsync(["list", .. Table]);
        var release = await _cli.RunAsync(["release", "--force", key, "--yes", .. Table]);

        // The lock shows its session's lease (not the ten years stored for session-unaware clients) and names it.
        Assert.Contains(held.Output.Split(Environment.NewLine), l => l.StartsWith($"{key}\theld\tcli-node\t1\t20000\t", StringComparison.Ordinal) && l.EndsWith("\t" + session.Key, StringComparison.Ordinal));
        Assert.DoesNotContain(session.Key + "\t", held.Output.Split(Environment.NewLine).Select(l => l.Split('\t')[0] + "\t"));
        Assert.Contains(sessions.Output.Split(Environment.NewLine), l => l == $"{session.Key}\tlive\tcli-node\t20000\t" + l.Split('\t')[4] + "\t1");
        Assert.Contains(expired.Output.Split(Environment.NewLine), l => l.StartsWith($"{key}\texpired\t", StringComparison.Ordinal));
        Assert.True(release.ExitCode == 0, release.Error);
        Assert.True((await table.ReadAsync(new DynamoLock.Actors.Table.LockKey(key)))?.IsReleased);
    }

    [Fact]
    public async Task Demo_takes_durations_like_every_option_and_cleans_up_its_dynamodb_records()
    {
        var table = await fixture.CreateTableAsync(new DynamoLock.Actors.Table.DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("demo") });

        var memory = await _cli.RunAsync(["demo", "--duration", "2s"]);
        var dynamoDb = await _cli.RunAsync(["demo", "--duration", "2s", "--store", "dynamodb", "--endpoint", fixture.Server.Endpoint, "--table", table.TableName]);
        var left = await _cli.RunAsync(["list", "--output", "json", "--endpoint", fixture.Server.Endpoint, "--table", table.TableName]);

        Assert.True(memory.ExitCode == 0, memory.Error);
        Assert.Contains("violations: 0", memory.Output, StringComparison.Ordinal);
        Assert.Contains("node changes", memory.Output, StringComparison.Ordinal);
        Assert.True(dynamoDb.ExitCode == 0, dynamoDb.Error);
        Assert.Contains("demo lock record(s) from table", dynamoDb.Output, StringComparison.Ordinal);
        Assert.Equal("[]", left.Output.Trim());
    }

    [Fact]
    public async Task Help_teaches_the_environment_the_exit_codes_and_each_default_once()
    {
        var run = await _cli.RunAsync(["run", "--help"]);
        var root = await _cli.RunAsync(["--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("DYNAMOLOCK_KEY", run.Output, StringComparison.Ordinal);
        Assert.Contains("DYNAMOLOCK_FENCING_TOKEN", run.Output, StringComparison.Ordinal);
        Assert.Contains("Exit codes", run.Output, StringComparison.Ordinal);
        Assert.Contains("Exit codes", root.Output, StringComparison.Ordinal);
        Assert.Contains("[default: 20s]", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("00:00:", run.Output, StringComparison.Ordinal);
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
    [InlineData("lsit", "Did you mean 'list'?")]
    [InlineData("run --key k --wait -1s -- true", "--wait must not be negative")]
    [InlineData("demo --duration soon", "--duration")]
    [InlineData("demo --duration 2h", "--duration must be between 1s and 1h")]
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
