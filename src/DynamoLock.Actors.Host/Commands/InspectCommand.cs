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
        var command = new Command("inspect", "Show one lock: owner, fencing token, lease, heartbeat age, data size.") { key, common.Output };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "inspect", async () =>
        {
            var lockKey = new LockKey(parse.GetValue(key)!);
            var record = await common.CreateTable(parse).ReadAsync(lockKey, ct).ConfigureAwait(false);
            if (record is null)
            {
                await Console.Error.WriteLineAsync($"dynamolock inspect: no lock record for '{lockKey}'.").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }

            var now = DateTimeOffset.UtcNow;
            if (parse.GetValue(common.Output) == "json")
            {
                Console.WriteLine(LockView.Serialize(LockView.ToJson(record, now)));
            }
            else
            {
                AnsiConsole.Write(LockView.Table([record], now));
                AnsiConsole.MarkupLine($"record version [grey]{Markup.Escape(record.RecordVersionNumber)}[/]");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
