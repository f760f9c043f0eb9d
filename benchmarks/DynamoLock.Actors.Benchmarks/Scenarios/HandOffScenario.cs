using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Benchmarks.Report;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>
/// Scenario 3: hand-off latency, from the holder sending Release to the waiter receiving LockAcquired: on one node
/// (the lock actor hands the lock to its next local waiter), across two actor systems without remoting (the waiter sees
/// the release on its next refresh read) and across two actor systems with remoting (the holder's node sends the
/// registered waiter a notice, and the waiter writes at once: docs/notices.md).
/// </summary>
internal static class HandOffScenario
{
    /// <summary>The waiting node's refresh interval across nodes; the target is a hand-off within one such period.</summary>
    public static readonly TimeSpan CrossNodeRefresh = TimeSpan.FromMilliseconds(200);

    /// <summary>With notices, how far after the waiter registered the release comes (at random): well before its first poll.</summary>
    private static readonly TimeSpan NoticeReleaseSpread = TimeSpan.FromSeconds(1);

    public static async Task<(IReadOnlyList<LatencySeries> Series, IReadOnlyList<HandOffPartsRow> Parts)> RunAsync(string endpoint, string server, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var series = new List<LatencySeries>();
        var parts = new List<HandOffPartsRow>();
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

        var crossNode = await CrossNodeAsync(node1, node2, "cross-", CrossNodeRefresh, null, 0, options.CrossNodeHandOffSamples, cancellationToken).ConfigureAwait(false);
        series.Add(LatencySeries.Of($"across nodes, {server}", $"release on node 1 to grant on node 2, refresh {CrossNodeRefresh.TotalMilliseconds:0} ms", crossNode));

        // With notices: default settings (polling every 6 s with notices), so that a hand-off faster than polling could give
        // is the notice's doing. The release comes at a random point of the first second after the waiter registered.
        var noticeSettings = new DynamoLockSettings();
        var memoryTable = new InMemoryLockTable();
        await using (var memory1 = LockNode.Start("handoff-notice-memory-1", memoryTable, noticeSettings, remoting: true))
        await using (var memory2 = LockNode.Start("handoff-notice-memory-2", memoryTable, noticeSettings, remoting: true))
        {
            var samples = await CrossNodeAsync(memory1, memory2, "notice-", NoticeReleaseSpread, memoryTable, NoticeWarmUp, options.CrossNodeHandOffSamples, cancellationToken).ConfigureAwait(false);
            series.Add(LatencySeries.Of("across nodes with notices, in-memory", $"the same over remoting on loopback, shared InMemoryLockTable, default refresh {NoticesScenario.RefreshOf(noticeSettings, remoting: true).TotalSeconds:0.#} s", samples));
        }

        foreach (var batching in new[] { true, false })
        {
            using var timeline = new HandOffTimeline();
            var samples = await NoticeOnServerAsync(endpoint, noticeSettings, batching, timeline, options.CrossNodeHandOffSamples, cancellationToken).ConfigureAwait(false);
            series.Add(batching
                ? LatencySeries.Of($"across nodes with notices, {server}", $"release on node 1 to grant on node 2, remoting on loopback (Akka's defaults), default refresh {NoticesScenario.RefreshOf(noticeSettings, remoting: true).TotalSeconds:0.#} s: node 2 registered on the record, node 1's release sends it LockFreed", samples)
                : LatencySeries.Of($"across nodes with notices, remote batching off, {server}", "the same with Akka.Remote's write batching off (`akka.remote.dot-netty.tcp.batching.enabled = false`)", samples));
            parts.Add(new HandOffPartsRow(series[^1].Name, timeline.Parts()));
        }

        return (series, parts);
    }

    private static async Task<List<double>> NoticeOnServerAsync(string endpoint, DynamoLockSettings settings, bool batching, HandOffTimeline timeline, int count, CancellationToken cancellationToken)
    {
        var tag = batching ? "notice" : "notice-nobatch";
        using var client1 = LocalDynamoDb.CreateClient(endpoint);
        using var client2 = LocalDynamoDb.CreateClient(endpoint);
        var table1 = await LocalDynamoDb.CreateTableAsync(client1, $"handoff-{tag}", cancellationToken).ConfigureAwait(false);
        var table2 = LocalDynamoDb.OpenTable(client2, table1.TableName);
        await using var node1 = LockNode.Start($"handoff-{tag}-1", table1, settings, remoting: true, remoteBatching: batching);
        await using var node2 = LockNode.Start($"handoff-{tag}-2", table2, settings, remoting: true, remoteBatching: batching);
        return await CrossNodeAsync(node1, node2, "notice-", NoticeReleaseSpread, table1, NoticeWarmUp, count, cancellationToken, timeline).ConfigureAwait(false);
    }

    // The first notice between two nodes opens their Akka.Remote association (a handshake), once for the nodes' lives: untimed.
    private const int NoticeWarmUp = 2;

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

    /// <summary>Node 1 holds, node 2 waits, node 1 releases: the time to node 2's grant.</summary>
    /// <param name="registeredOn">With notices: the table to read until the record lists node 2 as a waiter, so that the release tells it.</param>
    /// <param name="warmUp">Untimed rounds first.</param>
    /// <param name="timeline">With notices: splits each timed hand-off into its parts.</param>
    private static async Task<List<double>> CrossNodeAsync(LockNode node1, LockNode node2, string prefix, TimeSpan refresh, ILockTable? registeredOn, int warmUp, int count, CancellationToken cancellationToken, HandOffTimeline? timeline = null)
    {
        var holder = node1.NewRequester();
        var waiter = node2.NewRequester();
        var samples = new List<double>(count);
        for (var i = 0; i < count + warmUp; i++)
        {
            var key = $"{prefix}{i % 8}";
            await holder.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
            var grant = waiter.AcquireAsync(key, cancellationToken, wait: TimeSpan.FromSeconds(30));
            await node2.WaitForAsync(key, info => info.State == LockState.Waiting, cancellationToken).ConfigureAwait(false);
            if (registeredOn is not null)
            {
                await WaitForWaiterAsync(registeredOn, key, cancellationToken).ConfigureAwait(false);
            }

            // Release at a random point of the waiter's refresh cycle, as a real release would be.
            await Task.Delay(Random.Shared.Next((int)refresh.TotalMilliseconds), cancellationToken).ConfigureAwait(false);
            timeline?.Begin();
            var released = Timing.Now();
            await holder.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
            var granted = await grant.ConfigureAwait(false);
            if (i >= warmUp)
            {
                samples.Add(Timing.MillisecondsBetween(released, granted.ReceivedAt));
                timeline?.Take(released, granted.ReceivedAt);
            }

            await waiter.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
        }

        return samples;
    }

    /// <summary>Reads the record of <paramref name="key"/> until it lists a waiter (the waiting node's registration landed).</summary>
    internal static async Task WaitForWaiterAsync(ILockTable table, string key, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var lockKey = new LockKey(key);
        while (await table.ReadAsync(lockKey, timeout.Token).ConfigureAwait(false) is not { Waiters.Count: > 0 })
        {
            await Task.Delay(5, timeout.Token).ConfigureAwait(false);
        }
    }
}
