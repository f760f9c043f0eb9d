using System.CommandLine;
using DynamoLock.Actors.Table;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Commands;

/// <summary><c>dynamolock inspect KEY</c>: one lock record in detail.</summary>
internal static class InspectCommand
{
    public static Command Create(CommonOptions common)
    {
        var key = new Argument<string>("key") { Description = "The lock name." };
        var command = new Command(
            "inspect",
            "Show one lock: state, owner, fencing token, lease, heartbeat age, record version and its data (as text when it is " +
            "UTF-8, else base64; data is kept across holders). Exits 1 when there is no record for the key. State 'stale' means " +
            "held but with a heartbeat older than its lease by the wall clocks: a display hint that the holder may be gone.")
        {
            key, common.Output,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "inspect", async () =>
        {
            var lockKey = new LockKey(parse.GetValue(key)!);
            var table = common.CreateTable(parse);
            var record = await table.ReadAsync(lockKey, ct).ConfigureAwait(false);
            if (record is null)
            {
                await Console.Error.WriteLineAsync($"dynamolock inspect: no lock record for {HumanText.Key(lockKey.ToString())}.").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            // A lock held under a session is alive as long as its session: its record says how long ago it was renewed.
            var sessions = new Dictionary<string, LockRecord>(StringComparer.Ordinal);
            if (record.SessionKey is { } sessionKey && await table.ReadAsync(new LockKey(sessionKey), ct).ConfigureAwait(false) is { } session)
            {
                sessions[sessionKey] = session;
            }

            var now = DateTimeOffset.UtcNow;
            if (parse.GetValue(common.Output) == "json")
            {
                Console.WriteLine(LockView.Serialize(LockView.ToJson(record, now, withData: true, sessions)));
            }
            else
            {
                AnsiConsole.Write(LockView.Details(record, now, sessions));
            }

            if (LockView.IsStale(record, now, sessions))
            {
                await Console.Error.WriteLineAsync(LockView.StaleNote).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
