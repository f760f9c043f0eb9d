using System.CommandLine;
using Akka.Actor;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;
using Spectre.Console;

namespace DynamoLock.Actors.Host.Demo;

/// <summary>
/// <c>dynamolock demo</c>: several in-process nodes (actor systems, each with its own lock manager) compete for a few
/// keys; midway one node is cut off from the table and loses its locks, told before anyone else can take them.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(Commands.CommonOptions common)
    {
        var nodes = new Option<int>("--nodes") { Description = "Nodes (actor systems) competing.", DefaultValueFactory = _ => 3 };
        var keys = new Option<int>("--keys") { Description = "Keys they compete for.", DefaultValueFactory = _ => 3 };
        var workers = new Option<int>("--workers") { Description = "Requesters per node.", DefaultValueFactory = _ => 2 };
        var duration = Commands.CommonOptions.Duration("--duration", "How long the demo runs, 1s to 1h.", TimeSpan.FromSeconds(15));
        var store = new Option<string>("--store") { Description = "memory (embedded in-memory table) or dynamodb (--table, created if missing, at --endpoint; the demo's records are removed at the end).", DefaultValueFactory = _ => "memory" };
        store.AcceptOnlyFromAmong("memory", "dynamodb");

        var command = new Command("demo", "Watch in-process nodes compete for locks on the embedded in-memory table (or DynamoDB).")
        {
            nodes, keys, workers, duration, store,
        };
        command.SetAction((parse, cancellationToken) => Commands.CommandRunner.RunAsync(parse, common, "demo", () => RunAsync(
            () => common.CreateTable(parse),
            new DemoOptions(parse.GetValue(nodes), parse.GetValue(keys), parse.GetValue(workers), parse.GetValue(duration).Value, parse.GetValue(store)!, parse.GetValue(common.Table)!, parse.GetValue(common.Verbose)),
            cancellationToken), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(Func<DynamoDbLockTable> createDynamoDbTable, DemoOptions options, CancellationToken cancellationToken)
    {
        if (Validate(options) is { } problem)
        {
            throw new Commands.UsageException(problem);
        }

        ILockTable table;
        DynamoDbLockTable? dynamoDb = null;
        if (options.Store == "memory")
        {
            table = new InMemoryLockTable("demo");
        }
        else
        {
            dynamoDb = createDynamoDbTable();
            await dynamoDb.EnsureTableAsync(cancellationToken).ConfigureAwait(false);
            table = dynamoDb;
        }

        // Owner names unique to this run, so that the clean-up at the end removes only the records this run wrote.
        var run = Guid.NewGuid().ToString("N")[..6];
        string OwnerOf(int node) => dynamoDb is null ? $"node-{node}" : $"demo-{run}-node-{node}";

        var keys = Enumerable.Range(1, options.Keys).Select(i => $"demo/job-{i}").ToList();
        var board = new DemoBoard(keys);
        var resource = new FencedResource();
        var settings = new DynamoLockSettings
        {
            LeaseDuration = TimeSpan.FromSeconds(3),
            HeartbeatInterval = TimeSpan.FromMilliseconds(600),
            RefreshInterval = TimeSpan.FromMilliseconds(200),
            DriftAllowance = TimeSpan.FromMilliseconds(200),
            MaxLocalHandOffs = 3,
        };
        var config = Commands.ToolActorSystem.Config(options.Verbose);

        var nodes = new List<(ActorSystem System, PartitionableLockTable Table, List<IActorRef> Workers)>();
        for (var i = 1; i <= options.Nodes; i++)
        {
            var system = ActorSystem.Create($"node-{i}", config);
            var nodeTable = new PartitionableLockTable(table);
            var manager = system.ActorOf(LockManager.Props(nodeTable, settings with { OwnerName = OwnerOf(i) }), "dynamolock");
            var nodeWorkers = Enumerable.Range(1, options.Workers)
                .Select(w => system.ActorOf(DemoWorker.Props($"node-{i}/worker-{w}", manager, keys, board, resource), $"worker-{w}"))
                .ToList();
            nodes.Add((system, nodeTable, nodeWorkers));
        }

        board.Log($"{options.Nodes} nodes x {options.Workers} workers compete for {options.Keys} keys on the {(options.Store == "memory" ? "in-memory table" : $"DynamoDB table '{Markup.Escape(options.Table)}'")}");
        var partitionAt = options.Duration * 0.35;
        var healAt = TimeSpan.MaxValue;
        var started = TimeProvider.System.GetTimestamp();
        var interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

        async Task LoopAsync(Action refresh)
        {
            var partitioned = false;
            var healed = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                var elapsed = TimeProvider.System.GetElapsedTime(started);
                if (elapsed >= options.Duration)
                {
                    break;
                }

                // Once node-1 holds a lock: its workers get busy with long work and it is cut off from the table.
                if (!partitioned && elapsed >= partitionAt && nodes.Count > 1 && board.Holds("node-1/"))
                {
                    partitioned = true;
                    healAt = elapsed + (settings.LeaseDuration * 2);
                    nodes[0].Workers.ForEach(w => w.Tell(new DemoWorker.Stall(true)));
                    nodes[0].Table.Partitioned = true;
                    board.Phase = "node-1 is cut off from the table";
                    board.Log("[red]node-1 is cut off from the lock table[/] while its workers are busy: its heartbeats fail, so it gives its locks up at its safe deadline");
                    refresh();
                }

                if (partitioned && !healed && elapsed >= healAt)
                {
                    healed = true;
                    nodes[0].Workers.ForEach(w => w.Tell(new DemoWorker.Stall(false)));
                    nodes[0].Table.Partitioned = false;
                    board.Phase = "node-1 is back";
                    board.Log("[green]node-1 reaches the table again[/]");
                    refresh();
                }

                if (interactive)
                {
                    refresh();
                }

                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        if (interactive)
        {
            await AnsiConsole.Live(board.Render(resource)).StartAsync(ctx => LoopAsync(() => ctx.UpdateTarget(board.Render(resource)))).ConfigureAwait(false);
        }
        else
        {
            await LoopAsync(() => AnsiConsole.Write(board.Render(resource))).ConfigureAwait(false);
        }

        board.Phase = "shutting down: every node releases its locks";
        board.ShuttingDown = true;
        await Task.WhenAll(nodes.Select(n => CoordinatedShutdown.Get(n.System).Run(CoordinatedShutdown.ClrExitReason.Instance))).ConfigureAwait(false);
        board.Phase = "done";
        AnsiConsole.Write(board.Render(resource));
        AnsiConsole.MarkupLine(board.Summary(resource));
        if (dynamoDb is not null)
        {
            var removed = await RemoveRecordsAsync(dynamoDb, keys, Enumerable.Range(1, options.Nodes).Select(OwnerOf).ToHashSet(StringComparer.Ordinal)).ConfigureAwait(false);
            AnsiConsole.MarkupLine($"[grey]removed {removed} demo lock record(s) from table '{Markup.Escape(dynamoDb.TableName)}'[/]");
        }

        AnsiConsole.MarkupLine($"violations: {board.Violations}");
        return board.Violations == 0 ? Commands.ExitCodes.Ok : Commands.ExitCodes.NotFound;
    }

    /// <summary>
    /// Deletes the records of the demo's keys that this run's nodes wrote last (released, or still held if a shutdown
    /// release failed: every node has stopped by now). Each delete is conditioned on the record version read just before,
    /// so a record someone else wrote meanwhile is left alone.
    /// </summary>
    private static async Task<int> RemoveRecordsAsync(DynamoDbLockTable table, IEnumerable<string> keys, IReadOnlySet<string> owners)
    {
        var removed = 0;
        foreach (var key in keys)
        {
            var record = await table.ReadAsync(new LockKey(key)).ConfigureAwait(false);
            if (record is null || !owners.Contains(record.OwnerName))
            {
                continue;
            }

            var result = await table.ReleaseAsync(new ReleaseLockRequest(record.Key, record.OwnerName, record.RecordVersionNumber) { DeleteRecord = true }).ConfigureAwait(false);
            if (result is ReleaseResult.Released)
            {
                removed++;
            }
        }

        return removed;
    }

    private static string? Validate(DemoOptions options) => options switch
    {
        { Nodes: < 1 or > 10 } => $"--nodes must be between 1 and 10 (got {options.Nodes}).",
        { Keys: < 1 or > 20 } => $"--keys must be between 1 and 20 (got {options.Keys}).",
        { Workers: < 1 or > 10 } => $"--workers must be between 1 and 10 (got {options.Workers}).",
        _ when options.Duration < TimeSpan.FromSeconds(1) || options.Duration > TimeSpan.FromHours(1) => $"--duration must be between 1s and 1h (got {Commands.Durations.Format(options.Duration)}).",
        _ => null,
    };

    private sealed record DemoOptions(int Nodes, int Keys, int Workers, TimeSpan Duration, string Store, string Table, bool Verbose);
}
