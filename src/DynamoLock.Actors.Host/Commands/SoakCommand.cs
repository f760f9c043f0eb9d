using System.CommandLine;
using System.CommandLine.Parsing;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Chaos.Simulation;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock soak</c>: competing in-process clients under seeded HTTP faults and partitions against DynamoDB (its own
/// dynalite when no endpoint is given), then a check of the history; ends with <c>violations: N</c> and exits 1 when N &gt; 0.
/// </summary>
internal static class SoakCommand
{
    public static Command Create(CommonOptions common)
    {
        var duration = CommonOptions.Duration("--duration", "How long the clients run.", TimeSpan.FromMinutes(10));
        var clients = new Option<int>("--clients") { Description = "Competing clients (actor systems, each with its own DynamoDB client).", DefaultValueFactory = _ => 8 };
        var keys = new Option<int>("--keys") { Description = "Keys they compete for.", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice.", DefaultValueFactory = _ => 42 };
        var history = new Option<string?>("--history") { Description = "Write the history as JSON lines to this file." };
        var partitionEvery = CommonOptions.Duration("--partition-every", "How often a client is cut off from the table (or, with --processes, a worker process is killed or paused).", TimeSpan.FromSeconds(5));
        var drift = new Option<double>("--clock-drift") { Description = "Make client-1's clock run this fraction fast and client-2's as much slow (e.g. 0.05; with --processes, the first two worker processes' and their replacements'); the drift allowance is 200 ms on a 3 s lease.", DefaultValueFactory = _ => 0 };
        var processes = new Option<bool>("--processes") { Description = "Run each client as a separate process (dynamolock chaos-worker) and SIGKILL or SIGSTOP them for longer than the lease." };
        var sessions = new Option<SessionUse?>("--sessions")
        {
            Description = "Hold the locks under sessions (docs/sessions.md) in every client, or with 'mixed' in every other client (or worker process), so both modes meet on the same keys.",
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = ParseSessions,
            HelpName = "always|mixed",
        };
        var command = new Command("soak", "Run competing clients under injected faults and check the history for violations (a Jepsen-style soak test).")
        {
            duration, clients, keys, seed, history, partitionEvery, processes, drift, sessions,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "soak", async () =>
        {
            var clientCount = parse.GetValue(clients);
            var keyCount = parse.GetValue(keys);
            if (clientCount is < 1 or > 32 || keyCount is < 1 or > 64)
            {
                throw new UsageException($"--clients must be 1..32 and --keys 1..64 (got {clientCount} and {keyCount}).");
            }

            using var dynalite = parse.GetValue(common.Endpoint) is null ? await LocalDynalite.StartAsync(ct).ConfigureAwait(false) : null;
            var endpoint = parse.GetValue(common.Endpoint) ?? dynalite!.Endpoint;
            Console.WriteLine($"soak against {endpoint}{(dynalite is null ? string.Empty : $" (dynalite, pid {dynalite.ProcessId})")}");
            var result = parse.GetValue(processes)
                ? await ProcessChaosRun.RunAsync(
                    new ProcessChaosRunOptions
                    {
                        Endpoint = endpoint,
                        WorkerCommand = WorkerCommand(),
                        TableName = "dynamolock-soak-processes",
                        Processes = clientCount,
                        Keys = keyCount,
                        Duration = parse.GetValue(duration).Value,
                        Seed = parse.GetValue(seed),
                        FaultEvery = parse.GetValue(partitionEvery).Value,
                        Sessions = parse.GetValue(sessions) ?? SessionUse.Never,
                        ClockRates = ClockRates(parse.GetValue(drift)),
                    },
                    Console.WriteLine,
                    ct).ConfigureAwait(false)
                : await ChaosRun.RunAsync(
                new ChaosRunOptions
                {
                    Endpoint = endpoint,
                    TableName = parse.GetValue(common.Table) is "dynamolock" or null ? "dynamolock-soak" : parse.GetValue(common.Table)!,
                    Clients = clientCount,
                    Keys = keyCount,
                    Duration = parse.GetValue(duration).Value,
                    Seed = parse.GetValue(seed),
                    PartitionEvery = parse.GetValue(partitionEvery).Value,
                    ClockRates = ClockRates(parse.GetValue(drift)),
                    Sessions = parse.GetValue(sessions) ?? SessionUse.Never,
                },
                Console.WriteLine,
                ct).ConfigureAwait(false);
            if (parse.GetValue(history) is { } file)
            {
                await result.History.WriteJsonLinesAsync(file, ct).ConfigureAwait(false);
                Console.WriteLine($"history: {result.History.Events.Count} events in {file}");
            }

            foreach (var line in ChaosRun.Summary(result))
            {
                Console.WriteLine(line);
            }

            return result.Report.Violations.Count == 0 ? ExitCodes.Ok : ExitCodes.NotFound;
        }, ct));
        return command;
    }

    /// <summary>The first client's clock runs <paramref name="drift"/> fast and the second's as much slow.</summary>
    private static IReadOnlyList<double> ClockRates(double drift) => drift is > 0 and < 1 ? [1 + drift, 1 - drift] : [];

    /// <summary><c>--sessions</c> alone means every client; <c>--sessions mixed</c> every other one.</summary>
    private static SessionUse? ParseSessions(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "always";
        switch (text.ToLowerInvariant())
        {
            case "always":
                return SessionUse.Always;
            case "mixed":
                return SessionUse.Mixed;
            case "never":
                return SessionUse.Never;
            default:
                result.AddError($"--sessions: '{text}' is not always, mixed or never.");
                return SessionUse.Never;
        }
    }

    /// <summary>How to start this tool again as a worker: the apphost, or <c>dotnet dynamolock.dll</c>.</summary>
    private static (string FileName, string[] Arguments) WorkerCommand()
    {
        var assembly = typeof(SoakCommand).Assembly.Location;
        var host = Environment.ProcessPath;
        return host is not null && !Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? (host, ["chaos-worker"])
            : ("dotnet", [assembly, "chaos-worker"]);
    }
}
