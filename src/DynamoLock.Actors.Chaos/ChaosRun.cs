using Akka.Actor;
using Akka.Configuration;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using DynamoLock.Actors.Chaos.Simulation;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Chaos;

/// <summary>The outcome of a chaos run.</summary>
/// <param name="History">Every event.</param>
/// <param name="Report">Counts and violations.</param>
/// <param name="Faults">Faults injected, by kind.</param>
/// <param name="Partitions">Partitions started.</param>
public sealed record ChaosResult(History History, HistoryReport Report, IReadOnlyDictionary<FaultKind, int> Faults, int Partitions);

/// <summary>
/// Runs competing clients (actor systems in this process, each with its own DynamoDB client) against a real DynamoDB
/// API server while injecting HTTP faults and partitions, then checks the history.
/// </summary>
public static class ChaosRun
{
    /// <summary>Runs <paramref name="options"/>.</summary>
    public static async Task<ChaosResult> RunAsync(ChaosRunOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var history = new History();
        var resource = new FencedResource();
        var keys = Enumerable.Range(1, options.Keys).Select(i => $"chaos/{options.Seed}/key-{i}").ToList();
        var random = new Random(options.Seed);
        var config = ConfigurationFactory.ParseString("akka.loglevel = ERROR\nakka.stdout-loglevel = ERROR\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off");

        var setupClient = CreateClient(options.Endpoint, null);
        await new DynamoDbLockTable(setupClient, new DynamoDbLockTableOptions { TableName = options.TableName }).EnsureTableAsync(cancellationToken).ConfigureAwait(false);

        var clients = new List<(string Name, ActorSystem System, HttpFaultInjector Faults, List<IActorRef> Workers)>();
        for (var c = 1; c <= options.Clients; c++)
        {
            var name = $"client-{c}";
            var faults = new HttpFaultInjector(options.Faults, options.Seed * 1000 + c);
            var table = new DynamoDbLockTable(CreateClient(options.Endpoint, faults), new DynamoDbLockTableOptions { TableName = options.TableName });
            var system = ActorSystem.Create(name, config);
            var rate = c <= options.ClockRates.Count ? options.ClockRates[c - 1] : 1.0;
            var clock = rate == 1.0 ? TimeProvider.System : new DriftingTimeProvider(rate);
            var settings = options.Settings with { OwnerName = name, TimeProvider = clock, UseSessions = ChaosRunOptions.UsesSessions(options.Sessions, c) };
            var manager = system.ActorOf(LockManager.Props(table, settings), "dynamolock");
            var acquire = AcquireOptions.Wait(TimeSpan.FromSeconds(10));
            var workers = Enumerable.Range(1, options.WorkersPerClient)
                .Select(w => system.ActorOf(ChaosWorker.Props($"{name}/w{w}", manager, keys, history, resource, options.Seed * 1000 + (c * 10) + w, acquire), $"worker-{w}"))
                .ToList();
            clients.Add((name, system, faults, workers));
        }

        log?.Invoke($"{options.Clients} clients x {options.WorkersPerClient} workers on {options.Keys} keys for {options.Duration}, seed {options.Seed}"
            + (options.ClockRates.Count == 0 ? string.Empty : $", clock rates {string.Join(", ", options.ClockRates)}")
            + SessionsNote(options.Sessions));
        var partitions = 0;
        var started = TimeProvider.System.GetTimestamp();
        var nextPartition = options.PartitionEvery;
        while (TimeProvider.System.GetElapsedTime(started) < options.Duration && !cancellationToken.IsCancellationRequested)
        {
            var elapsed = TimeProvider.System.GetElapsedTime(started);
            if (nextPartition is { } at && elapsed >= at)
            {
                // Cut off a client that holds a lock now, when there is one: that is where a partition tests the protocol.
                var holder = CurrentHolder(history);
                var victim = clients.FirstOrDefault(c => holder is not null && holder.StartsWith(c.Name + "/", StringComparison.Ordinal));
                if (victim.System is null)
                {
                    victim = clients[random.Next(clients.Count)];
                }

                var length = options.Settings.LeaseDuration * 1.5;
                victim.Faults.Partition(length);
                partitions++;
                log?.Invoke($"{elapsed.TotalSeconds:F1}s: {victim.Name} cut off from the table for {length.TotalSeconds:F1}s");
                nextPartition = at + options.PartitionEvery!.Value;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
        }

        // Let the clients finish cleanly: no new locks, no more faults, then each node's shutdown releases what it holds.
        foreach (var client in clients)
        {
            client.Workers.ForEach(w => w.Tell(ChaosWorker.StopWorking.Instance));
            client.Faults.Enabled = false;
        }

        await Task.WhenAll(clients.Select(c => CoordinatedShutdown.Get(c.System).Run(CoordinatedShutdown.ClrExitReason.Instance))).ConfigureAwait(false);
        var faultCounts = clients.SelectMany(c => c.Faults.Counts).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
        return new ChaosResult(history, HistoryChecker.Check(history.Events), faultCounts, partitions);
    }

    /// <summary>The run's summary lines, ending with <c>violations: N</c>.</summary>
    public static IEnumerable<string> Summary(ChaosResult result)
    {
        var r = result.Report;
        yield return $"acquisitions: {r.Acquisitions}, releases: {r.Releases}, takeovers after a loss: {r.TakeoversAfterLoss}, counter increments: {r.CounterIncrements}, fenced writes rejected: {r.FencedWritesRejected}, overlaps excused by a paused holder: {r.ExcusedByPause}";
        yield return "losses: " + (r.LossesByReason.Count == 0 ? "none" : string.Join(", ", r.LossesByReason.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")));
        yield return $"faults: partitions {result.Partitions}, " + string.Join(", ", result.Faults.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"));
        foreach (var violation in r.Violations.Take(20))
        {
            yield return $"VIOLATION {violation.Rule}: {violation.Description}";
        }

        yield return $"violations: {r.Violations.Count}";
    }

    /// <summary>How the first log line names the session mode: nothing without sessions, as before they existed.</summary>
    internal static string SessionsNote(SessionUse sessions, string clients = "clients") => sessions switch
    {
        SessionUse.Never => string.Empty,
        SessionUse.Always => ", locks held under sessions",
        _ => $", odd-numbered {clients} hold their locks under sessions",
    };

    /// <summary>The worker of the most recent grant that has not ended yet, if any.</summary>
    private static string? CurrentHolder(History history)
    {
        var open = new Dictionary<(string Client, string Key), double>();
        foreach (var e in history.Events)
        {
            if (e.Kind == "granted")
            {
                open[(e.Client, e.Key)] = e.AtMs;
            }
            else if (e.Kind is "release" or "lost")
            {
                open.Remove((e.Client, e.Key));
            }
        }

        return open.Count == 0 ? null : open.MaxBy(p => p.Value).Key.Client;
    }

    /// <summary>A DynamoDB client for a local endpoint, with <paramref name="faults"/> in its HTTP pipeline.</summary>
    public static AmazonDynamoDBClient CreateClient(string endpoint, HttpFaultInjector? faults)
    {
        var config = new AmazonDynamoDBConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1", Timeout = TimeSpan.FromSeconds(2), MaxErrorRetry = 2 };
        if (faults is not null)
        {
            config.HttpClientFactory = faults;
        }

        return new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), config);
    }
}
