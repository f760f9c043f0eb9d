using System.CommandLine;
using Akka.Actor;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock chaos-worker</c> (hidden): one client of a process-level chaos run. It competes for the keys with
/// injected HTTP faults, writes every history event to standard output as a JSON line on the machine's wall clock, and
/// releases its locks and exits when its standard input closes.
/// </summary>
internal static class ChaosWorkerCommand
{
    public static Command Create(CommonOptions common)
    {
        var name = new Option<string>("--name") { Required = true };
        var keys = new Option<int>("--keys") { DefaultValueFactory = _ => 2 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var workers = new Option<int>("--workers") { DefaultValueFactory = _ => 2 };
        var sessions = new Option<bool>("--sessions") { Description = "Hold the locks under sessions (DynamoLockSettings.UseSessions)." };
        var clockRate = new Option<double>("--clock-rate") { Description = "How fast the lock manager's monotonic clock runs (1 = exact).", DefaultValueFactory = _ => 1.0 };
        var command = new Command("chaos-worker", "One worker process of a process-level soak (used by dynamolock soak --processes).") { name, keys, seed, workers, sessions, clockRate };
        command.Hidden = true;
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "chaos-worker", async () =>
        {
            var endpoint = parse.GetValue(common.Endpoint) ?? throw new UsageException("--endpoint is required.");
            var rate = parse.GetValue(clockRate);
            if (rate is <= 0 or >= 2)
            {
                throw new UsageException($"--clock-rate must be between 0 and 2 (got {rate}).");
            }

            var processName = parse.GetValue(name)!;
            var seedValue = parse.GetValue(seed);
            var output = Console.Out;
            var history = new History(() => History.WallClockMs, e => output.WriteLine(History.ToJson(e)));
            var faults = new HttpFaultInjector(FaultPlan.Default, seedValue);
            var table = new DynamoDbLockTable(ChaosRun.CreateClient(endpoint, faults), new DynamoDbLockTableOptions { TableName = parse.GetValue(common.Table)! });
            await table.EnsureTableAsync(ct).ConfigureAwait(false);
            // Standard output carries the history: Akka logs (errors) to standard error only, which the harness drains.
            using var system = ToolActorSystem.Create("chaos-worker", parse.GetValue(common.Verbose), quietLevel: "ERROR");
            var settings = new ChaosRunOptions { Endpoint = endpoint }.Settings with
            {
                OwnerName = processName,
                UseSessions = parse.GetValue(sessions),
                TimeProvider = rate == 1.0 ? TimeProvider.System : new DriftingTimeProvider(rate),
            };
            var manager = system.ActorOf(LockManager.Props(table, settings), "dynamolock");
            var keyNames = Enumerable.Range(1, parse.GetValue(keys)).Select(i => $"chaos/processes/key-{i}").ToList();
            var resource = new FencedResource();
            var actors = Enumerable.Range(1, parse.GetValue(workers))
                .Select(w => system.ActorOf(ChaosWorker.Props($"{processName}/w{w}", manager, keyNames, history, resource, (seedValue * 10) + w, AcquireOptions.Wait(TimeSpan.FromSeconds(10)))))
                .ToList();

            // Run until the harness closes standard input (or the process is killed).
            using var input = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (await input.ReadAsync(buffer, ct).ConfigureAwait(false) > 0)
            {
            }

            actors.ForEach(a => a.Tell(ChaosWorker.StopWorking.Instance));
            faults.Enabled = false;
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
