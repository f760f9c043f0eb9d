using System.CommandLine;
using System.Globalization;
using System.Text;
using Akka.Actor;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock run --key K -- CMD ARGS…</c>: acquires the lock, runs the command with <c>DYNAMOLOCK_KEY</c> and
/// <c>DYNAMOLOCK_FENCING_TOKEN</c> in its environment, and releases the lock when it exits; the exit code is the
/// command's. If the lock is lost, the command is terminated (SIGTERM, then SIGKILL after the grace period) and the tool
/// exits with 4. Ctrl-C stops the command the same way and releases the lock.
/// </summary>
internal static class RunCommand
{
    /// <summary>How often a waiting run reads the record to say who holds the lock.</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(3);

    public static Command Create(CommonOptions common)
    {
        var key = new Option<string>("--key", "-k") { Description = "The lock name.", Required = true };
        var lease = CommonOptions.Duration("--lease", "How long the lock stays valid without a heartbeat; heartbeats every quarter of it.", TimeSpan.FromSeconds(20));
        var wait = CommonOptions.Duration("--wait", "How long to wait for the lock; 0 tries once. Taking over a lock whose holder died needs at least its lease + 500ms.", TimeSpan.FromSeconds(30), allowZero: true);
        var grace = new Option<CliDuration?>("--grace")
        {
            Description = "How long the command may take to stop after SIGTERM before it is killed (e.g. 500ms, 2s); must be shorter than the safety margin (a fifth of --lease), so it stops before anyone else can hold the lock [default: half the safety margin]",
            CustomParser = r => new CliDuration(CommonOptions.ParseDuration(r)),
        };
        var data = new Option<string?>("--data") { Description = "Data (UTF-8) to store with the lock (kept in the record for later holders; see inspect)." };
        var commandLine = new Argument<string[]>("command") { Description = "The command and its arguments, after --.", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(
            "run",
            "Run a command while holding a lock (like flock): released when the command exits, the command stopped if the lock is lost.\n" +
            "The command's environment has DYNAMOLOCK_KEY (the lock name) and DYNAMOLOCK_FENCING_TOKEN (greater than every earlier holder's token: " +
            "pass it to the resource you protect so it can reject a stale holder). If the lock is lost, the command's process group gets SIGTERM, then SIGKILL after --grace.\n" +
            "Standard output and input are the command's; the tool writes only to standard error (while waiting, who holds the lock, on a terminal or with --verbose).\n" +
            "Exit codes: the command's own; 2 bad arguments; 3 not acquired within --wait; 4 the lock was lost (command terminated); " +
            "5 table error (missing table, credentials, access, unreachable); 6 the command ended but the release failed (the lock expires after --lease); 130 interrupted.")
        {
            key, lease, wait, grace, data, commandLine,
        };

        // The command is Arity ZeroOrMore so that a missing one gets this message rather than "Required argument missing".
        command.Validators.Add(result =>
        {
            if (result.GetValue(commandLine) is not { Length: > 0 })
            {
                result.AddError("no command to run: give it after --, e.g. dynamolock run --key nightly -- ./backup.sh");
            }
        });
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "run", () => RunAsync(
            parse,
            common,
            parse.GetValue(key)!,
            parse.GetValue(lease).Value,
            parse.GetValue(wait).Value,
            parse.GetValue(grace)?.Value,
            parse.GetValue(data),
            parse.GetValue(commandLine)!,
            ct), ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CommonOptions common, string key, TimeSpan lease, TimeSpan wait, TimeSpan? grace, string? data, string[] commandLine, CancellationToken cancellationToken)
    {
        var options = new AcquireOptions { LeaseDuration = lease, Data = data is null ? null : Encoding.UTF8.GetBytes(data) };
        var settings = new DynamoLockSettings();
        var margin = settings.ResolveTiming(options).SafetyMargin;
        if (grace is { } g && g >= margin)
        {
            throw new UsageException($"--grace ({Durations.Format(g)}) must be shorter than the safety margin ({Durations.Format(margin)}, a fifth of --lease): after a loss is signalled, another holder may take the lock that much later.");
        }

        var stopWithin = grace ?? margin / 2;
        CheckExecutable(commandLine[0]);
        var table = common.CreateTable(parse);
        var verbose = parse.GetValue(common.Verbose);
        using var system = ToolActorSystem.Create("dynamolock", verbose);
        try
        {
            var client = new DynamoLockClient(system, system.ActorOf(LockManager.Props(table, settings), "dynamolock"));
            LockHandle handle;
            using (var waited = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var acquiring = client.AcquireAsync(key, wait, options, cancellationToken);
                var progress = wait > TimeSpan.Zero && (verbose || !Console.IsErrorRedirected)
                    ? ReportWhileWaitingAsync(table, key, acquiring, waited.Token)
                    : Task.CompletedTask;
                try
                {
                    handle = await acquiring.ConfigureAwait(false);
                }
                catch (LockNotAcquiredException e)
                {
                    await waited.CancelAsync().ConfigureAwait(false);
                    await progress.ConfigureAwait(false);
                    await Console.Error.WriteLineAsync($"dynamolock run: {HumanText.Problem(e)}").ConfigureAwait(false);
                    if (await AbandonedHintAsync(table, key, settings, cancellationToken).ConfigureAwait(false) is { } hint)
                    {
                        await Console.Error.WriteLineAsync($"dynamolock run: {hint}").ConfigureAwait(false);
                    }

                    return ExitCodes.NotAcquired;
                }
                finally
                {
                    await waited.CancelAsync().ConfigureAwait(false);
                    await progress.ConfigureAwait(false);
                }
            }

            await using (handle.ConfigureAwait(false))
            {
                return await RunUnderLockAsync(handle, commandLine, stopWithin, lease, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// While the acquire waits, reads the record every few seconds and says on standard error who holds the lock and how
    /// old its last heartbeat is. The heartbeat's age comes from the holder's wall clock: shown, never used to decide.
    /// </summary>
    private static async Task ReportWhileWaitingAsync(ILockTable table, string key, Task acquiring, CancellationToken stop)
    {
        try
        {
            // The first report comes after a second, so a lock that frees up at once prints nothing.
            var delay = TimeSpan.FromSeconds(1);
            while (true)
            {
                await Task.WhenAny(acquiring, Task.Delay(delay, stop)).ConfigureAwait(false);
                if (acquiring.IsCompleted || stop.IsCancellationRequested)
                {
                    return;
                }

                delay = ProgressInterval;
                LockRecord? record;
                try
                {
                    record = await table.ReadAsync(new LockKey(key), stop).ConfigureAwait(false);
                }
                catch (LockTableException)
                {
                    // The acquire reports table failures itself.
                    continue;
                }

                if (acquiring.IsCompleted || stop.IsCancellationRequested)
                {
                    return;
                }

                await Console.Error.WriteLineAsync($"dynamolock run: waiting for {HumanText.Key(key)}: {Describe(record, DateTimeOffset.UtcNow)}").ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The acquire finished (or the run was interrupted).
        }
    }

    private static string Describe(LockRecord? record, DateTimeOffset now)
    {
        if (record is not { IsHeld: true })
        {
            return "it is free now; acquiring";
        }

        var holder = $"held by '{record.OwnerName}' (fencing token {record.FencingToken})";
        var age = LockView.HeartbeatAge(record, now);
        var heartbeat = age is { } a ? $", last heartbeat {Durations.FormatAge(a)} ago" : string.Empty;
        var lease = record.LeaseDuration is { } l ? $", lease {Durations.Format(l)}" : ", fail-closed (never expires; only a release frees it)";
        var stale = LockView.IsStale(record, now) ? " - looks abandoned; taken over once it stays unchanged for its lease + drift allowance" : string.Empty;
        return holder + heartbeat + lease + stale;
    }

    /// <summary>
    /// After giving up: when the record looks abandoned (its heartbeat is older than its lease), what a takeover needs.
    /// A waiter takes over only after watching the same record version for the lease plus the drift allowance.
    /// </summary>
    private static async Task<string?> AbandonedHintAsync(ILockTable table, string key, DynamoLockSettings settings, CancellationToken cancellationToken)
    {
        LockRecord? record;
        try
        {
            record = await table.ReadAsync(new LockKey(key), cancellationToken).ConfigureAwait(false);
        }
        catch (LockTableException)
        {
            return null;
        }

        var now = DateTimeOffset.UtcNow;
        if (record is null || !LockView.IsStale(record, now) || record.LeaseDuration is not { } lease || LockView.HeartbeatAge(record, now) is not { } age)
        {
            return null;
        }

        return $"{HumanText.Key(key)} looks abandoned (last heartbeat {Durations.FormatAge(age)} ago, lease {Durations.Format(lease)}): " +
            $"taking it over needs --wait of at least {Durations.Format(lease + settings.DriftAllowance)}";
    }

    private static async Task<int> RunUnderLockAsync(LockHandle handle, string[] commandLine, TimeSpan grace, TimeSpan lease, CancellationToken cancellationToken)
    {
        using var child = ChildProcess.Start(commandLine, new Dictionary<string, string>
        {
            ["DYNAMOLOCK_KEY"] = handle.Key,
            ["DYNAMOLOCK_FENCING_TOKEN"] = handle.FencingToken.ToString(CultureInfo.InvariantCulture),
        });
        var exited = child.WaitForExitAsync();
        var lost = Task.Delay(Timeout.Infinite, handle.LostToken);
        var interrupted = Task.Delay(Timeout.Infinite, cancellationToken);
        var first = await Task.WhenAny(exited, lost, interrupted).ConfigureAwait(false);
        if (first == exited)
        {
            return await ReleaseAsync(handle, lease, child.ExitCode).ConfigureAwait(false);
        }

        await child.TerminateAsync(grace).ConfigureAwait(false);
        if (first == lost)
        {
            await Console.Error.WriteLineAsync($"dynamolock run: lock {HumanText.Key(handle.Key)} (fencing token {handle.FencingToken}) was lost ({handle.LossReason}); the command was terminated.").ConfigureAwait(false);
            return ExitCodes.LockLost;
        }

        var code = await ReleaseAsync(handle, lease, ExitCodes.Interrupted).ConfigureAwait(false);
        if (code == ExitCodes.Interrupted)
        {
            await Console.Error.WriteLineAsync("dynamolock run: interrupted; the command was stopped and the lock released.").ConfigureAwait(false);
        }

        return code;
    }

    /// <summary>
    /// Releases the lock explicitly (disposing the handle would swallow a failure) and says so when the release could not be
    /// written: the record then stays held until its lease runs out.
    /// </summary>
    private static async Task<int> ReleaseAsync(LockHandle handle, TimeSpan lease, int exitCode)
    {
        try
        {
            if (await handle.ReleaseAsync().ConfigureAwait(false))
            {
                return exitCode;
            }

            // Lost between the command's exit and the release: the command may have run past the loss.
            await Console.Error.WriteLineAsync($"dynamolock run: lock {HumanText.Key(handle.Key)} (fencing token {handle.FencingToken}) was lost ({handle.LossReason}) as the command ended (exit code {exitCode}).").ConfigureAwait(false);
            return ExitCodes.LockLost;
        }
        catch (LockTableException e)
        {
            await Console.Error.WriteLineAsync($"dynamolock run: could not release {HumanText.Key(handle.Key)}: {HumanText.Problem(e)}; it expires {Durations.Format(lease)} after its last heartbeat (the command exited with {exitCode}).").ConfigureAwait(false);
            return ExitCodes.ReleaseFailed;
        }
    }

    /// <summary>Fails with a usage error unless <paramref name="command"/> names an executable file.</summary>
    private static void CheckExecutable(string command)
    {
        var found = command.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? File.Exists(command)
            : (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, command)));
        if (!found)
        {
            throw new UsageException($"cannot start '{command}': no such file on the PATH.");
        }
    }
}
