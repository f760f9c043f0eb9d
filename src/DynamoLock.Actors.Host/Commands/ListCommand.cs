using System.CommandLine;
using DynamoLock.Actors.Table;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Commands;

/// <summary><c>dynamolock list</c>: every lock record in the table.</summary>
internal static class ListCommand
{
    public static Command Create(CommonOptions common)
    {
        var sessions = new Option<bool>("--sessions") { Description = "List the session records (live, stale or expired) and how many locks each holds, instead of the locks." };
        var command = new Command(
            "list",
            "List the locks in the table. On a terminal, a table; when standard output is a pipe or a file, tab-separated lines " +
            "with a header (durations in ms); --output json for JSON. State 'stale' means held but with a heartbeat older than " +
            "its lease by the wall clocks: a display hint that the holder may be gone. A lock held under a session (one heartbeat " +
            "per node) shows its session's lease and heartbeat age; 'expired' means its session ended and any waiter takes it " +
            "over at once. --sessions lists the session records instead.")
        {
            common.Output, sessions,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "list", async () =>
        {
            var (records, sessionRecords) = LockView.Split(await ReadAllAsync(common.CreateTable(parse), ct).ConfigureAwait(false));
            var now = DateTimeOffset.UtcNow;
            if (parse.GetValue(sessions))
            {
                ListSessions(parse.GetValue(common.Output) == "json", sessionRecords, records, now);
                return ExitCodes.Ok;
            }

            if (parse.GetValue(common.Output) == "json")
            {
                Console.WriteLine(LockView.Serialize(records.Select(r => LockView.ToJson(r, now, sessions: sessionRecords))));
            }
            else if (Console.IsOutputRedirected)
            {
                // Spectre would wrap a table at 80 columns in a pipe; scripts want one record a line.
                foreach (var line in LockView.TabSeparated(records, now, sessionRecords))
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
                AnsiConsole.Write(LockView.Table(records, now, sessionRecords));
            }

            if (records.Any(r => LockView.IsStale(r, now, sessionRecords)))
            {
                await Console.Error.WriteLineAsync(LockView.StaleNote).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static void ListSessions(bool json, Dictionary<string, LockRecord> sessions, List<LockRecord> locks, DateTimeOffset now)
    {
        if (json)
        {
            Console.WriteLine(LockView.Serialize(sessions.Values.OrderBy(s => s.Key.Key, StringComparer.Ordinal).Select(s => new
            {
                Session = s.Key.Key,
                State = LockView.SessionState(s, now),
                Owner = s.OwnerName,
                LeaseMs = s.LeaseDuration?.TotalMilliseconds,
                HeartbeatAgeMs = LockView.HeartbeatAge(s, now)?.TotalMilliseconds,
                LocksHeld = locks.Count(l => l.IsHeld && l.SessionKey == s.Key.Key),
            })));
        }
        else if (Console.IsOutputRedirected)
        {
            foreach (var line in LockView.SessionLines(sessions, locks, now))
            {
                Console.WriteLine(line);
            }
        }
        else if (sessions.Count == 0)
        {
            AnsiConsole.MarkupLine("[grey]no sessions[/]");
        }
        else
        {
            AnsiConsole.Write(LockView.SessionTable(sessions, locks, now));
        }
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
