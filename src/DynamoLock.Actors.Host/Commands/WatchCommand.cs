using System.CommandLine;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Commands;

/// <summary><c>dynamolock watch</c>: the lock table, refreshed until Ctrl-C.</summary>
internal static class WatchCommand
{
    public static Command Create(CommonOptions common)
    {
        var interval = CommonOptions.Duration("--interval", "How often to refresh.", TimeSpan.FromSeconds(1));
        var count = new Option<int?>("--count") { Description = "Stop after this many refreshes (default: until Ctrl-C)." };
        var command = new Command("watch", "Watch the locks in the table (refreshes until Ctrl-C). State 'stale' means held but with a heartbeat older than its lease by the wall clocks: a display hint that the holder may be gone.") { interval, count };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "watch", async () =>
        {
            var table = common.CreateTable(parse);
            var every = parse.GetValue(interval).Value;
            var remaining = parse.GetValue(count);
            var interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
            async Task<Spectre.Console.Rendering.IRenderable> SnapshotAsync()
            {
                var (records, sessions) = LockView.Split(await ListCommand.ReadAllAsync(table, ct).ConfigureAwait(false));
                var now = DateTimeOffset.UtcNow;
                var stale = records.Count(r => LockView.IsStale(r, now, sessions));
                var rows = new List<Spectre.Console.Rendering.IRenderable>
                {
                    new Markup($"[bold]{Markup.Escape(table.TableName)}[/] at {DateTime.Now:HH:mm:ss} — {records.Count} lock(s), {records.Count(r => r.IsHeld)} held{(stale > 0 ? $", {stale} stale" : string.Empty)}"),
                    LockView.Table(records, now, sessions),
                };
                if (stale > 0)
                {
                    // Part of the display (not a log line), so it stays with the table it explains.
                    rows.Add(new Markup($"[grey]{Markup.Escape(LockView.StaleNote)}[/]"));
                }

                return new Rows(rows);
            }

            async Task LoopAsync(Action<Spectre.Console.Rendering.IRenderable> show)
            {
                while (remaining is null || remaining-- > 0)
                {
                    show(await SnapshotAsync().ConfigureAwait(false));
                    if (remaining is 0)
                    {
                        break;
                    }

                    await Task.Delay(every, ct).ConfigureAwait(false);
                }
            }

            if (interactive)
            {
                await AnsiConsole.Live(new Markup("loading…")).StartAsync(ctx => LoopAsync(view => ctx.UpdateTarget(view))).ConfigureAwait(false);
            }
            else
            {
                await LoopAsync(AnsiConsole.Write).ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
