using System.CommandLine;
using System.Globalization;
using System.Text;
using Akka.Actor;
using Akka.Configuration;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock run --key K -- CMD ARGS…</c>: acquires the lock, runs the command with <c>DYNAMOLOCK_KEY</c> and
/// <c>DYNAMOLOCK_FENCING_TOKEN</c> in its environment, and releases the lock when it exits; the exit code is the
/// command's. If the lock is lost, the command is terminated (SIGTERM, then SIGKILL after the grace period) and the tool
/// exits with 4. Ctrl-C stops the command the same way and releases the lock.
/// </summary>
internal static class RunCommand
{
    public static Command Create(CommonOptions common)
    {
        var key = new Option<string>("--key", "-k") { Description = "The lock name.", Required = true };
        var lease = CommonOptions.Duration("--lease", "How long the lock stays valid without a heartbeat; heartbeats every quarter of it.", TimeSpan.FromSeconds(20));
        var wait = CommonOptions.Duration("--wait", "How long to wait for the lock; 0 tries once.", TimeSpan.FromSeconds(30), allowZero: true);
        var grace = new Option<TimeSpan?>("--grace")
        {
            Description = "How long the command may take to stop after SIGTERM before it is killed (e.g. 500ms, 2s); must be shorter than the safety margin (a fifth of --lease), so it stops before anyone else can hold the lock [default: half the safety margin]",
            CustomParser = r => CommonOptions.ParseDuration(r),
        };
        var data = new Option<string?>("--data") { Description = "Data (UTF-8) to store with the lock." };
        var commandLine = new Argument<string[]>("command") { Description = "The command and its arguments, after --.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("run", "Run a command while holding a lock (like flock): released when the command exits, the command stopped if the lock is lost.")
        {
            key, lease, wait, grace, data, commandLine,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "run", () => RunAsync(
            parse,
            common,
            parse.GetValue(key)!,
            parse.GetValue(lease),
            parse.GetValue(wait),
            parse.GetValue(grace),
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
        var logLevel = parse.GetValue(common.Verbose) ? "INFO" : "ERROR";
        var config = ConfigurationFactory.ParseString($"akka.loglevel = {logLevel}\nakka.stdout-loglevel = {logLevel}\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off");
        using var system = ActorSystem.Create("dynamolock", config);
        try
        {
            var client = new DynamoLockClient(system, system.ActorOf(LockManager.Props(table, settings), "dynamolock"));
            LockHandle handle;
            try
            {
                handle = await client.AcquireAsync(key, wait, options, cancellationToken).ConfigureAwait(false);
            }
            catch (LockNotAcquiredException e)
            {
                await Console.Error.WriteLineAsync($"dynamolock run: {e.Message}").ConfigureAwait(false);
                return ExitCodes.NotAcquired;
            }

            await using (handle.ConfigureAwait(false))
            {
                return await RunUnderLockAsync(handle, commandLine, stopWithin, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        }
    }

    private static async Task<int> RunUnderLockAsync(LockHandle handle, string[] commandLine, TimeSpan grace, CancellationToken cancellationToken)
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
            return child.ExitCode;
        }

        await child.TerminateAsync(grace).ConfigureAwait(false);
        if (first == lost)
        {
            await Console.Error.WriteLineAsync($"dynamolock run: lock '{handle.Key}' (fencing token {handle.FencingToken}) was lost ({handle.LossReason}); the command was terminated.").ConfigureAwait(false);
            return ExitCodes.LockLost;
        }

        await Console.Error.WriteLineAsync("dynamolock run: interrupted; the command was stopped and the lock released.").ConfigureAwait(false);
        return ExitCodes.Interrupted;
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
