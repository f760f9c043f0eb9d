using System.CommandLine;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Commands;

/// <summary><c>dynamolock create-table</c>: creates the lock table (on-demand billing, time-to-live on expiresAt where supported).</summary>
internal static class CreateTableCommand
{
    public static Command Create(CommonOptions common)
    {
        var command = new Command("create-table", "Create the lock table if it does not exist (on-demand billing; TTL on expiresAt where supported).");
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "create-table", async () =>
        {
            var table = common.CreateTable(parse);
            var result = await table.EnsureTableAsync(ct).ConfigureAwait(false);
            var ttl = result.TimeToLiveEnabled switch { true => "enabled on expiresAt", false => "not enabled", null => "not supported by this server" };
            AnsiConsole.MarkupLine($"table [bold]{Markup.Escape(result.TableName)}[/] {(result.Created ? "created" : "already exists")}; time-to-live {ttl}.");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
