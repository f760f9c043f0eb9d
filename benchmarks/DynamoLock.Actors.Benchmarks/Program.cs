using System.Text.Json;
using DynamoLock.Actors.Benchmarks;
using DynamoLock.Actors.Benchmarks.Micro;
using DynamoLock.Actors.Benchmarks.Report;
using DynamoLock.Actors.Benchmarks.Scenarios;
using DynamoLock.Actors.Chaos;

// The benchmark runner behind benchmarks/run.sh: BenchmarkDotNet micro-benchmarks in process, then end-to-end
// scenarios against the local server it starts (--server dynalite, the default, or dynamodb-local; or --endpoint), with
// the round-trip counts also taken on the other local server when it starts, then RESULTS.md, results.json and charts/*.png.
BenchmarkOptions options;
try
{
    options = BenchmarkOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupt.Cancel();
};
var cancellationToken = interrupt.Token;
var started = Elapsed();

void Log(string message) => Console.Error.WriteLine($"[{Elapsed() - started:mm\\:ss}] {message}");

Log($"{(options.Quick ? "quick" : "full")} run; results go to {options.OutputDirectory}");
var results = new BenchmarkResults { Environment = RunEnvironmentProbe.Read(options.Quick, options.Endpoint, options.Server) };

if (options.Runs("micro"))
{
    Log("micro-benchmarks (BenchmarkDotNet, in process)");
    var artifacts = Path.Combine(Path.GetTempPath(), $"dynamolock-bdn-{Environment.ProcessId}");
    try
    {
        results.Micro = MicroBenchmarkRunner.Run(options, artifacts);
    }
    finally
    {
        if (Directory.Exists(artifacts))
        {
            Directory.Delete(artifacts, recursive: true);
        }
    }
}

using (var server = options.Endpoint is null ? await LocalDynamoDbServer.StartAsync(options.Server, 0, cancellationToken) : null)
{
    var endpoint = options.Endpoint ?? server!.Endpoint;
    var serverName = results.Environment.ServerName;
    Log($"DynamoDB API at {endpoint}{(server is null ? "" : $" ({serverName}, pid {server.ProcessId})")}");

    async Task Scenario(string name, Func<Task> run)
    {
        if (!options.Runs(name))
        {
            return;
        }

        Log(name);
        await run();
    }

    await Scenario("latency", async () => results.Latency = await LatencyScenario.RunAsync(endpoint, options, cancellationToken));
    await Scenario("peer", async () => results.Peer = await PeerScenario.RunAsync(endpoint, options, cancellationToken));
    await Scenario("round-trips", async () =>
    {
        var rows = new List<RoundTripRow>(await RoundTripScenario.RunAsync(endpoint, serverName, options, cancellationToken));
        if (server is not null)
        {
            // The request counts differ between the servers (DynamoDB Local returns the holder with a failed write, as
            // DynamoDB does; dynalite does not), so they are also taken on the other server, side by side, when it starts.
            var other = server.Kind == LocalDynamoDbServerKind.Dynalite ? LocalDynamoDbServerKind.DynamoDbLocal : LocalDynamoDbServerKind.Dynalite;
            try
            {
                using var second = await LocalDynamoDbServer.StartAsync(other, 0, cancellationToken);
                Log($"round-trips on {other.DisplayName()} too (pid {second.ProcessId})");
                rows.AddRange(await RoundTripScenario.RunAsync(second.Endpoint, other.DisplayName(), options, cancellationToken));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                Log($"round-trips on {other.DisplayName()} skipped: {e.Message}");
            }
        }

        results.RoundTrips = rows;
    });
    await Scenario("hand-off", async () => (results.HandOff, results.HandOffParts) = await HandOffScenario.RunAsync(endpoint, serverName, options, cancellationToken));
    await Scenario("failover", async () => results.Failover = await FailoverScenario.RunAsync(endpoint, options, cancellationToken));
    await Scenario("throughput", async () => results.Throughput = await ThroughputScenario.RunAsync(endpoint, options, cancellationToken));
    await Scenario("sessions", async () => results.Sessions = await SessionScenario.RunAsync(endpoint, options, cancellationToken));
    await Scenario("notices", async () => results.Notices = await NoticesScenario.RunAsync(endpoint, options, cancellationToken));
}

// No table at all: the deterministic simulator on virtual time.
if (options.Runs("simulate"))
{
    Log("simulate");
    results.Simulator = SimulatorScenario.Run(options);
}

// In memory only, and last: 100k lock actors are the heaviest thing the run does.
if (options.Runs("scale"))
{
    Log("scale");
    results.Scale = await ScaleScenario.RunAsync(options, cancellationToken);
}

results.Duration = Elapsed() - started;
Directory.CreateDirectory(options.OutputDirectory);
var charts = Charts.Write(results, Path.Combine(options.OutputDirectory, "charts"));
var report = ResultsReport.Render(results, charts, "charts/");
await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "RESULTS.md"), report, cancellationToken);
await File.WriteAllTextAsync(
    Path.Combine(options.OutputDirectory, "results.json"),
    JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }),
    cancellationToken);
Log($"wrote {Path.Combine(options.OutputDirectory, "RESULTS.md")}, results.json and {charts.Count} charts");
foreach (var target in Targets.Evaluate(results))
{
    Console.WriteLine($"{(target.Met ? "met    " : "MISSED ")} {target.Target}: {target.Measured}");
}

return 0;

static TimeSpan Elapsed() => System.Diagnostics.Stopwatch.GetElapsedTime(0);
