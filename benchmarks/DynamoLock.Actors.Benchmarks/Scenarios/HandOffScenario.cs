using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Benchmarks.Report;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>
/// Scenario 3: hand-off latency, from the holder sending Release to the waiter receiving LockAcquired: on one node
/// (the lock actor hands the lock to its next local waiter) and across two actor systems (the waiter sees the release
/// on its next refresh read).
/// </summary>
internal static class HandOffScenario
{
    /// <summary>The waiting node's refresh interval across nodes; the target is a hand-off within one such period.</summary>
    public static readonly TimeSpan CrossNodeRefresh = TimeSpan.FromMilliseconds(200);

    public static async Task<IReadOnlyList<LatencySeries>> RunAsync(string endpoint, string server, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var series = new List<LatencySeries>();
        await using (var memoryNode = LockNode.Start("handoff-memory", new InMemoryLockTable()))
        {
            var samples = await SameNodeAsync(memoryNode, options.HandOffSamples, cancellationToken).ConfigureAwait(false);
            series.Add(LatencySeries.Of("same node, in-memory", "release to grant at a waiter of the same LockManager, InMemoryLockTable", samples));
        }

        using var client1 = LocalDynamoDb.CreateClient(endpoint);
        using var client2 = LocalDynamoDb.CreateClient(endpoint);
        var table1 = await LocalDynamoDb.CreateTableAsync(client1, "handoff", cancellationToken).ConfigureAwait(false);
        var table2 = LocalDynamoDb.OpenTable(client2, table1.TableName);
        var settings = new DynamoLockSettings { RefreshInterval = CrossNodeRefresh };
        await using var node1 = LockNode.Start("handoff-1", table1, settings);
        await using var node2 = LockNode.Start("handoff-2", table2, settings);

        var sameNode = await SameNodeAsync(node1, options.HandOffSamples, cancellationToken).ConfigureAwait(false);
        series.Add(LatencySeries.Of($"same node, {server}", "release to grant at a waiter of the same LockManager (one heartbeat write mints the token)", sameNode));

        var crossNode = await CrossNodeAsync(node1, node2, options.CrossNodeHandOffSamples, cancellationToken).ConfigureAwait(false);
        series.Add(LatencySeries.Of($"across nodes, {server}", $"release on node 1 to grant on node 2, refresh {CrossNodeRefresh.TotalMilliseconds:0} ms", crossNode));
        return series;
    }

    private static async Task<List<double>> SameNodeAsync(LockNode node, int count, CancellationToken cancellationToken)
    {
        var holder = node.NewRequester();
        var waiter = node.NewRequester();
        var samples = new List<double>(count);

        // The first rounds are untimed: they warm up the code paths (JIT) and the connections.
        const int warmUp = 10;
        for (var i = 0; i < count + warmUp; i++)
        {
            var key = $"same-{i % 8}";
            await holder.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
            var grant = waiter.AcquireAsync(key, cancellationToken, wait: TimeSpan.FromSeconds(30));
            await node.WaitForAsync(key, info => info.Waiters == 1, cancellationToken).ConfigureAwait(false);
            var released = Timing.Now();
            await holder.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
            var granted = await grant.ConfigureAwait(false);
            if (i >= warmUp)
            {
                samples.Add(Timing.MillisecondsBetween(released, granted.ReceivedAt));
            }

            await waiter.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
        }

        return samples;
    }

    private static async Task<List<double>> CrossNodeAsync(LockNode node1, LockNode node2, int count, CancellationToken cancellationToken)
    {
        var holder = node1.NewRequester();
        var waiter = node2.NewRequester();
        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var key = $"cross-{i % 8}";
            await holder.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
            var grant = waiter.AcquireAsync(key, cancellationToken, wait: TimeSpan.FromSeconds(30));
            await node2.WaitForAsync(key, info => info.State == LockState.Waiting, cancellationToken).ConfigureAwait(false);

            // Release at a random point of the waiter's refresh cycle, as a real release would be.
            await Task.Delay(Random.Shared.Next((int)CrossNodeRefresh.TotalMilliseconds), cancellationToken).ConfigureAwait(false);
            var released = Timing.Now();
            await holder.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
            var granted = await grant.ConfigureAwait(false);
            samples.Add(Timing.MillisecondsBetween(released, granted.ReceivedAt));
            await waiter.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
        }

        return samples;
    }
}
