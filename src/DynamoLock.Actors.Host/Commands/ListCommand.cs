using System.CommandLine;
using DynamoLock.Actors.Table;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Commands;

/// <summary><c>dynamolock list</c>: every lock record in the table.</summary>
internal static class ListCommand
{
    public static Command Create(CommonOptions common)
    {
        var command = new Command(
            "list",
            "List the locks in the table. On a terminal, a table; when standard output is a pipe or a file, tab-separated lines " +
            "with a header (durations in ms); --output json for JSON. State 'stale' means held but with a heartbeat older than " +
            "its lease by the wall clocks: a display hint that the holder may be gone.")
        {
            common.Output,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "list", async () =>
        {
            var records = await ReadAllAsync(common.CreateTable(parse), ct).ConfigureAwait(false);
            var now = DateTimeOffset.UtcNow;
            if (parse.GetValue(common.Output) == "json")
            {
                Console.WriteLine(LockView.Serialize(records.Select(r => LockView.ToJson(r, now))));
            }
            else if (Console.IsOutputRedirected)
            {
                // Spectre would wrap a table at 80 columns in a pipe; scripts want one record a line.
                foreach (var line in LockView.TabSeparated(records, now))
                {
                    Console.WriteLine(line);
                }
            }
            else if (records.Count == 0)
            {
                AnsiConsole.MarkupLine("[grey]no locks[/]");
            }
            else
            {
                AnsiConsole.Write(LockView.Table(records, now));
            }

            if (records.Any(r => LockView.IsStale(r, now)))
            {
                await Console.Error.WriteLineAsync(LockView.StaleNote).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    public static async Task<List<LockRecord>> ReadAllAsync(ILockTable table, CancellationToken cancellationToken)
    {
        var records = new List<LockRecord>();
        string? token = null;
        do
        {
            var page = await table.ListAsync(new ListLocksRequest { PageSize = 500, ContinuationToken = token }, cancellationToken).ConfigureAwait(false);
            records.AddRange(page.Records);
            token = page.ContinuationToken;
        }
        while (token is not null);

        records.Sort((a, b) => string.CompareOrdinal(a.Key.ToString(), b.Key.ToString()));
        return records;
    }
}
