using System.CommandLine;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock release --force KEY</c>: an operator's forced release. It releases the record as its current owner in one
/// conditional write; the holder's next heartbeat fails and it reports <c>LockLost(ReleasedByOther)</c>.
/// </summary>
internal static class ReleaseCommand
{
    public static Command Create(CommonOptions common)
    {
        var key = new Argument<string>("key") { Description = "The lock name." };
        var force = new Option<bool>("--force") { Description = "Required: release a lock this tool does not hold." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation." };
        var command = new Command(
            "release",
            "Force the release of a lock held by someone else (an operator's action): the holder's next heartbeat fails and it loses the lock. " +
            "Exits 1 when there is nothing to release (no record, already released, changed meanwhile, or not confirmed).")
        {
            key, force, yes,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "release", async () =>
        {
            if (!parse.GetValue(force))
            {
                throw new UsageException("releasing a lock held by someone else needs --force.");
            }

            var lockKey = new LockKey(parse.GetValue(key)!);
            var table = common.CreateTable(parse);
            var record = await table.ReadAsync(lockKey, ct).ConfigureAwait(false);
            if (record is null || record.IsReleased)
            {
                // The same answer as inspect's for a missing record: nothing to act on.
                await Console.Error.WriteLineAsync($"dynamolock release: {HumanText.Key(lockKey.ToString())} is not held ({(record is null ? "no record" : "already released")}); nothing was released.").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            if (!parse.GetValue(yes))
            {
                // The question goes to standard error, like every message of the tool's own.
                await Console.Error.WriteAsync($"Release {HumanText.Key(lockKey.ToString())} held by '{record.OwnerName}' (fencing token {record.FencingToken})? The holder will lose it. [y/N] ").ConfigureAwait(false);
                var answer = Console.In.ReadLine()?.Trim();
                if (answer is null || !(answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase)))
                {
                    await Console.Error.WriteLineAsync("dynamolock release: not released.").ConfigureAwait(false);
                    return ExitCodes.NotFound;
                }

                // The holder heartbeats while the operator reads the question: release what is there now, if it is the same holding.
                var now = await table.ReadAsync(lockKey, ct).ConfigureAwait(false);
                if (now is null || now.IsReleased || now.OwnerName != record.OwnerName || now.FencingToken != record.FencingToken)
                {
                    await Console.Error.WriteLineAsync($"dynamolock release: {HumanText.Key(lockKey.ToString())} changed while waiting for the answer ({(now is { IsHeld: true } ? $"now held by '{now.OwnerName}', token {now.FencingToken}" : "now free")}); not released.").ConfigureAwait(false);
                    return ExitCodes.NotFound;
                }

                record = now;
            }

            // The holder heartbeats (a new record version each time) while this runs: retry while the same holding is there.
            for (var attempt = 1; ; attempt++)
            {
                var result = await table.ReleaseAsync(new ReleaseLockRequest(lockKey, record.OwnerName, record.RecordVersionNumber), ct).ConfigureAwait(false);
                if (result is ReleaseResult.Released)
                {
                    break;
                }

                var current = ((ReleaseResult.NotHeld)result).Current;
                if (current is { IsHeld: true } && current.OwnerName == record.OwnerName && current.FencingToken == record.FencingToken && attempt < 10)
                {
                    record = current;
                    continue;
                }

                await Console.Error.WriteLineAsync($"dynamolock release: {HumanText.Key(lockKey.ToString())} changed while releasing (now {(current is { IsHeld: true } c ? $"held by '{c.OwnerName}', fencing token {c.FencingToken}" : "free")}); nothing was released.").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            Console.WriteLine($"Released {HumanText.Key(lockKey.ToString())} (was held by '{record.OwnerName}', fencing token {record.FencingToken}).");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
