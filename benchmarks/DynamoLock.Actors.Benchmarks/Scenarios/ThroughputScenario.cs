using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Benchmarks.Report;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>Acquire+release pairs per second with <see cref="Requesters"/> concurrent loops over <see cref="Keys"/> keys.</summary>
internal sealed record ThroughputCell(int Keys, int Requesters, double OpsPerSecond, LatencySummary Latency);

/// <summary>
/// Scenario 5b: throughput against the local server. R concurrent requesters on one node loop over acquire (waiting as long
/// as it takes) and release of a random one of K keys through the async facade; contended keys queue at the lock
/// actor and are handed over locally.
/// </summary>
internal static class ThroughputScenario
{
    public static async Task<IReadOnlyList<ThroughputCell>> RunAsync(string endpoint, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        using var client = LocalDynamoDb.CreateClient(endpoint);
        var table = await LocalDynamoDb.CreateTableAsync(client, "throughput", cancellationToken).ConfigureAwait(false);
        await using var node = LockNode.Start("throughput", table);
        var cells = new List<ThroughputCell>();
        foreach (var keys in options.ThroughputKeys)
        {
            foreach (var requesters in options.ThroughputRequesters)
            {
                cells.Add(await MeasureAsync(node.Client, $"k{keys}-r{requesters}-", keys, requesters, options.ThroughputWindow, cancellationToken).ConfigureAwait(false));
            }
        }

        return cells;
    }

    private static async Task<ThroughputCell> MeasureAsync(DynamoLockClient client, string prefix, int keys, int requesters, TimeSpan window, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var warmUp = TimeSpan.FromMilliseconds(300);
        var windowStart = Timing.After(Timing.Now(), warmUp);
        var windowEnd = Timing.After(windowStart, window);
        var latencies = new List<double>[requesters];
        var loops = Enumerable.Range(0, requesters).Select(r =>
        {
            latencies[r] = [];
            return Task.Run(() => LoopAsync(client, prefix, keys, windowStart, windowEnd, latencies[r], cancellationToken), cancellationToken);
        }).ToArray();
        await Task.WhenAll(loops).ConfigureAwait(false);
        var all = latencies.SelectMany(l => l).ToArray();
        return new ThroughputCell(keys, requesters, all.Length / window.TotalSeconds, LatencySummary.Of(all));
    }

    /// <summary>Counts the pairs that start and end inside the window.</summary>
    private static async Task LoopAsync(DynamoLockClient client, string prefix, int keys, long windowStart, long windowEnd, List<double> latencies, CancellationToken cancellationToken)
    {
        while (Timing.Now() < windowEnd)
        {
            var key = $"{prefix}{Random.Shared.Next(keys)}";
            var start = Timing.Now();
            var handle = await client.AcquireAsync(key, TimeSpan.FromSeconds(60), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!await handle.ReleaseAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"'{key}' could not be released.");
            }

            var end = Timing.Now();
            if (start >= windowStart && end <= windowEnd)
            {
                latencies.Add(Timing.MillisecondsBetween(start, end));
            }
        }
    }
}
