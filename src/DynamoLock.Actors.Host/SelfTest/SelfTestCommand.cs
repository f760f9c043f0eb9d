using System.CommandLine;
using DynamoLock.Actors.Host.Commands;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Table;
using Spectre.Console;

namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// <c>dynamolock selftest</c>: runs the lock protocol's promises against the endpoint and table it is given (DynamoDB in
/// the user's account, or a local server) and prints a line for each, PASS, FAIL or NOTE with its figures. Every key it
/// writes is under its own prefix and is deleted at the end, also after a failure or Ctrl-C.
/// </summary>
internal static class SelfTestCommand
{
    /// <summary>How long the clean-up may take once the run is over (or interrupted): its own budget, not the run's token.</summary>
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The width of the name column of the text report.</summary>
    private const int NameWidth = 38;

    public static Command Create(CommonOptions common)
    {
        var samples = new Option<int>("--samples") { Description = $"Rounds of uncontended acquire and release timed for the latency lines (1 to {SelfTestOptions.MaxSamples}).", DefaultValueFactory = _ => SelfTestOptions.DefaultSamples };
        var lease = CommonOptions.Duration("--lease", $"The lease of the self-test's locks, {Durations.Format(SelfTestOptions.MinLease)} to {Durations.Format(SelfTestOptions.MaxLease)}; the takeover check waits a little longer than this", SelfTestOptions.DefaultLease);
        var allowSharedTable = new Option<bool>("--allow-shared-table") { Description = "Run even though the table holds other locks (or session records). The self-test only writes and deletes keys under its own prefix, but it is meant for a table of its own." };
        var command = new Command(
            "selftest",
            "Check the lock protocol's promises against this endpoint and table, and print a report: requests per acquire, heartbeat, " +
            "release and contended acquire; conditional writes; consistent reads; fencing tokens; takeover only after the lease (through a " +
            "LockManager); clock independence; latency. Its keys are under dynamolock-selftest/<run id>/ and are deleted at the end, also " +
            "on failure or Ctrl-C. It refuses a table that holds other locks unless --allow-shared-table. Exits 0 when every promise held, " +
            "7 when one did not (a FAIL line), 2 on bad arguments, 5 on a table error. See docs/selftest.md.")
        {
            samples, lease, allowSharedTable, common.Output,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "selftest", () => RunAsync(
            parse,
            common,
            parse.GetValue(samples),
            parse.GetValue(lease).Value,
            parse.GetValue(allowSharedTable),
            ct), ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CommonOptions common, int sampleCount, TimeSpan lease, bool allowSharedTable, CancellationToken cancellationToken)
    {
        var options = Validate(sampleCount, lease, parse.GetValue(common.Verbose));
        var json = parse.GetValue(common.Output) == "json";
        var started = TimeProvider.System.GetTimestamp();

        // The client is built as the library builds its own (endpoint, region, credentials), with a request counter as its
        // HTTP layer: the figures are this client's requests.
        var requests = new ServerClockWatch();
        using var client = common.CreateClient(parse, requests);
        var table = common.CreateTable(parse, client);
        var keys = new SelfTestKeys();
        var checks = new List<SelfTestCheck>();
        void Report(SelfTestCheck check)
        {
            checks.Add(check);
            if (!json)
            {
                Print(check);
            }
        }

        var survey = allowSharedTable ? null : await SurveyAsync(table, cancellationToken).ConfigureAwait(false);
        if (survey?.OtherKey is { } other)
        {
            throw new UsageException(
                $"table '{table.TableName}' holds {Describe(other, table.Options.PartitionKeyName)}, not the self-test's. Run the self-test on a table of " +
                $"its own (dynamolock create-table --table dynamolock-selftest), or pass --allow-shared-table to run it here: it writes and deletes only keys under {SelfTestKeys.RootPrefix}<run id>/.");
        }

        // After the look at the table: a missing table or a refusal prints nothing on standard output, as in every command.
        var where = Where(parse, common, client);
        if (!json)
        {
            AnsiConsole.MarkupLine(Markup.Escape(
                $"dynamolock selftest: table '{table.TableName}' at {where}; keys under {keys.Prefix}; lease {Durations.Format(options.Lease)}; {options.Samples} samples"));
        }

        if (survey is { EarlierRuns: > 0 })
        {
            Report(SelfTestCheck.Note(
                "earlier self-test records",
                $"{survey.EarlierRuns} record(s) under {SelfTestKeys.RootPrefix} from another run (killed before its clean-up, or running now): left alone"));
        }

        var completed = false;
        int? removed = null;
        Exception? cleanupFailure = null;
        try
        {
            await new SelfTestRun(client, table, requests, keys, options, Report).RunAsync(cancellationToken).ConfigureAwait(false);
            completed = true;
        }
        finally
        {
            // Ctrl-C cancels the run's token, and a failure may come from anywhere: the clean-up has a token of its own.
            using var cleanup = new CancellationTokenSource(CleanupTimeout);
            try
            {
                removed = await keys.DeleteAllAsync(table, cleanup.Token).ConfigureAwait(false);
            }
            catch (LockTableNotFoundException)
            {
                // No table, nothing written: the run's own failure says what to do.
            }
            catch (Exception e) when (e is LockTableException or OperationCanceledException)
            {
                cleanupFailure = e;
            }

            if (!completed)
            {
                // The run failed or was interrupted: its error follows on standard error, and so does what became of its keys.
                await Console.Error.WriteLineAsync($"dynamolock selftest: {CleanupLine(keys, removed, cleanupFailure)}").ConfigureAwait(false);
            }
        }

        var failed = checks.Count(c => c.Verdict == SelfTestVerdict.Fail);
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        if (json)
        {
            Console.WriteLine(LockView.Serialize(new
            {
                Table = table.TableName,
                Endpoint = where,
                Prefix = keys.Prefix,
                LeaseMs = (long)options.Lease.TotalMilliseconds,
                options.Samples,
                Checks = checks.Select(c => new { c.Name, Verdict = c.VerdictText, c.Figures }),
                Passed = checks.Count(c => c.Verdict == SelfTestVerdict.Pass),
                Failed = failed,
                Notes = checks.Count(c => c.Verdict == SelfTestVerdict.Note),
                Seconds = Math.Round(elapsed.TotalSeconds, 1),
                RemovedKeys = removed,
            }));
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape(
                $"selftest: {checks.Count(c => c.Verdict == SelfTestVerdict.Pass)} passed, {failed} failed, {checks.Count(c => c.Verdict == SelfTestVerdict.Note)} notes " +
                $"in {elapsed.TotalSeconds:0.0}s; {CleanupLine(keys, removed, cleanupFailure)}"));
        }

        if (cleanupFailure is not null && json)
        {
            await Console.Error.WriteLineAsync($"dynamolock selftest: {CleanupLine(keys, removed, cleanupFailure)}").ConfigureAwait(false);
        }

        return failed > 0 ? ExitCodes.PromiseBroken : cleanupFailure is not null ? ExitCodes.TableError : ExitCodes.Ok;
    }

    /// <summary>Checks the options; the lease also against the library's own rules (heartbeat a quarter of it).</summary>
    private static SelfTestOptions Validate(int samples, TimeSpan lease, bool verbose)
    {
        if (samples is < 1 or > SelfTestOptions.MaxSamples)
        {
            throw new UsageException($"--samples must be between 1 and {SelfTestOptions.MaxSamples} (got {samples}).");
        }

        if (lease < SelfTestOptions.MinLease || lease > SelfTestOptions.MaxLease)
        {
            throw new UsageException($"--lease must be between {Durations.Format(SelfTestOptions.MinLease)} and {Durations.Format(SelfTestOptions.MaxLease)} (got {Durations.Format(lease)}).");
        }

        try
        {
            _ = new DynamoLockSettings { LeaseDuration = lease, HeartbeatInterval = lease / 4 }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--lease: {HumanText.Problem(e)}");
        }

        return new SelfTestOptions(samples, lease, verbose);
    }

    /// <summary>The look at the table, with what a refused Scan means for this command.</summary>
    private static async Task<SelfTestKeys.TableSurvey> SurveyAsync(DynamoDbLockTable table, CancellationToken cancellationToken)
    {
        try
        {
            return await SelfTestKeys.SurveyAsync(table, cancellationToken).ConfigureAwait(false);
        }
        catch (LockTableConfigurationException e)
        {
            throw new LockTableConfigurationException(
                $"{HumanText.Problem(e)} The self-test's check that the table holds no other locks is one Scan (dynamodb:Scan); --allow-shared-table skips it.",
                e);
        }
    }

    private static string Describe(string otherKey, string partitionKeyName) => otherKey.Length == 0
        ? $"an item without a '{partitionKeyName}' attribute (another key schema, or another application's data)"
        : LockSessions.IsSessionKey(otherKey)
            ? $"the session record {HumanText.Key(otherKey)} (a node holds locks here under a session)"
            : $"other locks (such as {HumanText.Key(otherKey)})";

    /// <summary>Where the table is, for the header: the endpoint, else the region the SDK resolved.</summary>
    private static string Where(ParseResult parse, CommonOptions common, Amazon.DynamoDBv2.IAmazonDynamoDB client)
    {
        if (DynamoDbClients.Endpoint(parse.GetValue(common.Endpoint), "--endpoint").Endpoint is { } endpoint)
        {
            return endpoint;
        }

        try
        {
            return client.Config.RegionEndpoint?.SystemName is { } region ? $"DynamoDB {region}" : "DynamoDB (the AWS SDK's region)";
        }
        catch (Amazon.Runtime.AmazonClientException)
        {
            // No region configured: the first request says so, with what to set.
            return "DynamoDB (no region configured)";
        }
    }

    private static string CleanupLine(SelfTestKeys keys, int? removed, Exception? failure) => failure is not null
        ? $"could not delete the self-test's records ({HumanText.Problem(failure)}): delete the items whose key starts with '{keys.Prefix}'"
        : removed is { } count
            ? $"deleted the self-test's {count} key(s) under {keys.Prefix}"
            : $"nothing to delete under {keys.Prefix}";

    private static void Print(SelfTestCheck check)
    {
        var color = check.Verdict switch
        {
            SelfTestVerdict.Pass => "green",
            SelfTestVerdict.Fail => "red",
            _ => "grey",
        };
        AnsiConsole.MarkupLine($"[{color}]{check.VerdictText}[/]  {Markup.Escape(check.Name.PadRight(NameWidth))}{Markup.Escape(check.Figures)}");
    }
}
