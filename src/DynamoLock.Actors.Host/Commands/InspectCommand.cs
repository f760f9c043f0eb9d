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
            var record = await common.CreateTable(parse).ReadAsync(lockKey, ct).ConfigureAwait(false);
            if (record is null)
            {
                await Console.Error.WriteLineAsync($"dynamolock inspect: no lock record for {HumanText.Key(lockKey.ToString())}.").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            var now = DateTimeOffset.UtcNow;
            if (parse.GetValue(common.Output) == "json")
            {
                Console.WriteLine(LockView.Serialize(LockView.ToJson(record, now, withData: true)));
            }
            else
            {
                AnsiConsole.Write(LockView.Details(record, now));
            }

            if (LockView.IsStale(record, now))
            {
                await Console.Error.WriteLineAsync(LockView.StaleNote).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
