using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>One node waiting on <see cref="Keys"/> keys held by another: its DynamoDB requests over a window, counted at the HTTP layer.</summary>
internal sealed record NoticeReadsRow(string Mode, bool Notices, double RefreshSeconds, int Keys, double WindowSeconds, int GetItems, int UpdateItems, int OtherRequests)
{
    /// <summary>Consistent reads per waiting (node, key) per minute.</summary>
    public double ReadsPerKeyPerMinute => GetItems / (double)Keys / (WindowSeconds / 60);
}

/// <summary>Three nodes contending for one key: acquire+release pairs completed inside the window, in total and by node.</summary>
internal sealed record HotKeyRow(string Mode, bool Notices, bool RemoteBatching, double RefreshSeconds, double WindowSeconds, IReadOnlyList<int> PairsByNode, HotKeyWorkload Workload)
{
    public int Pairs => PairsByNode.Sum();

    public double PairsPerSecond => Pairs / WindowSeconds;
}

/// <summary>What each hot-key requester does with the lock: hold it, release it, think, ask again.</summary>
internal sealed record HotKeyWorkload(TimeSpan Hold, TimeSpan Think)
{
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"hold {Hold.TotalMilliseconds:0} ms, think {Think.TotalMilliseconds:0} ms");
}

/// <summary>The notices scenario's two parts.</summary>
internal sealed record NoticeResults(IReadOnlyList<NoticeReadsRow> Reads, IReadOnlyList<HotKeyRow> HotKey);

/// <summary>
/// Scenario 8: notices between nodes (issue 16, docs/notices.md) against the local server, each figure without and with
/// notices in the same run. (a) Reads while waiting: one node waits on K keys held by another for a window; its
/// GetItem requests per waiting key per minute, without notices (no remoting), with notices at the default refresh, and
/// with notices at a 6 s refresh (a possible default with notices, not today's). (b) A hot key on three nodes: one
/// requester on each loops acquire (waiting) → hold → release → think, with a sparse and a contended workload; pairs per second in total.
/// </summary>
internal static class NoticesScenario
{
    /// <summary>The default refresh interval with notices (<see cref="DynamoLockSettings.NoticeRefreshInterval"/>).</summary>
    public static readonly TimeSpan LongerRefresh = new DynamoLockSettings().NoticeRefreshInterval;

    /// <summary>The refresh a node polls at: with notices, the notice refresh interval (never shorter than the refresh), as the LockManager does.</summary>
    public static TimeSpan RefreshOf(DynamoLockSettings settings, bool remoting) =>
        remoting && settings.NoticeRefreshInterval > settings.RefreshInterval ? settings.NoticeRefreshInterval : settings.RefreshInterval;

    public const int HotKeyNodes = 3;

    /// <summary>A lock free most of the time: requesters seldom collide.</summary>
    public static readonly HotKeyWorkload SparseHotKey = new(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(50));

    /// <summary>
    /// A contended lock: three requesters each ask for it about every 55 ms and hold it 10 ms plus their writes, so an
    /// acquire often finds it held (without notices it then waits for a poll); the lock can still serve all three at their
    /// own pace when each hand-off takes milliseconds (with notices: close to the 3x bound).
    /// </summary>
    public static readonly HotKeyWorkload ContendedHotKey = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(40));

    public static async Task<NoticeResults> RunAsync(string endpoint, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var defaults = new DynamoLockSettings();

        // The three reads rows run side by side: what they count is paced by each waiter's refresh timer, not by the CPU,
        // and one after the other they would take three windows (three minutes in a full run).
        var reads = await Task.WhenAll(
            ReadsAsync(endpoint, "without notices", defaults, remoting: false, options, cancellationToken),
            ReadsAsync(endpoint, $"with notices, refresh {defaults.RefreshInterval.TotalSeconds:0} s", defaults with { NoticeRefreshInterval = defaults.RefreshInterval }, remoting: true, options, cancellationToken),
            ReadsAsync(endpoint, $"with notices, default refresh {LongerRefresh.TotalSeconds:0} s", defaults, remoting: true, options, cancellationToken)).ConfigureAwait(false);

        // The hot-key rows run one after the other: they are paced by the CPU and the server.
        var hotKey = new List<HotKeyRow>
        {
            await HotKeyAsync(endpoint, "without notices", SparseHotKey, defaults, remoting: false, options, cancellationToken).ConfigureAwait(false),
            await HotKeyAsync(endpoint, "with notices", SparseHotKey, defaults, remoting: true, options, cancellationToken).ConfigureAwait(false),
            await HotKeyAsync(endpoint, "with notices, remote batching off", SparseHotKey, defaults, remoting: true, options, cancellationToken, remoteBatching: false).ConfigureAwait(false),
            await HotKeyAsync(endpoint, "without notices", ContendedHotKey, defaults, remoting: false, options, cancellationToken).ConfigureAwait(false),
            await HotKeyAsync(endpoint, "with notices", ContendedHotKey, defaults, remoting: true, options, cancellationToken).ConfigureAwait(false),
        };
        return new NoticeResults(reads, hotKey);
    }

    private static async Task<NoticeReadsRow> ReadsAsync(string endpoint, string mode, DynamoLockSettings settings, bool remoting, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var keys = options.NoticeReadsKeys;
        var refresh = RefreshOf(settings, remoting);
        var tag = remoting ? refresh == LongerRefresh ? "notices-long" : "notices" : "polling";
        using var holderClient = LocalDynamoDb.CreateClient(endpoint);
        var counter = new RequestCounter();
        using var waiterClient = LocalDynamoDb.CreateClient(endpoint, counter);
        var holderTable = await LocalDynamoDb.CreateTableAsync(holderClient, $"reads-{tag}", cancellationToken).ConfigureAwait(false);
        await using var holder = LockNode.Start($"reads-holder-{tag}", holderTable, settings, remoting);
        await using var waiter = LockNode.Start($"reads-waiter-{tag}", LocalDynamoDb.OpenTable(waiterClient, holderTable.TableName), settings, remoting);
        _ = await BulkHolder.HoldAsync(holder.System, holder.Manager, "r-", keys, cancellationToken).ConfigureAwait(false);

        // The waiter waits longer than the window; it is shut down (its waits abandoned) before the holder lets go.
        _ = BulkHolder.Start(waiter.System, waiter.Manager, "r-", keys, new AcquireOptions { WaitTimeout = TimeSpan.FromMinutes(10) });
        for (var i = 0; i < keys; i++)
        {
            await waiter.WaitForAsync($"r-{i}", info => info.State == LockState.Waiting, cancellationToken).ConfigureAwait(false);
            if (remoting)
            {
                // Read through the holder's client: the waiter's counter sees only the waiter's own requests.
                await HandOffScenario.WaitForWaiterAsync(holderTable, $"r-{i}", cancellationToken).ConfigureAwait(false);
            }
        }

        // Whole refresh periods, so that a long refresh's count does not hang on where the window cuts its cycle.
        var periods = Math.Max(1, Math.Ceiling(options.NoticeReadsWindow / refresh));
        var window = refresh * periods;
        counter.Reset();
        await Task.Delay(window, cancellationToken).ConfigureAwait(false);
        var counts = counter.Counts;
        var gets = counts.GetValueOrDefault("GetItem");
        var updates = counts.GetValueOrDefault("UpdateItem");
        return new NoticeReadsRow(mode, remoting, refresh.TotalSeconds, keys, window.TotalSeconds, gets, updates, counts.Values.Sum() - gets - updates);
    }

    private static async Task<HotKeyRow> HotKeyAsync(string endpoint, string mode, HotKeyWorkload workload, DynamoLockSettings settings, bool remoting, BenchmarkOptions options, CancellationToken cancellationToken, bool remoteBatching = true)
    {
        var tag = !remoting ? "polling" : remoteBatching ? "notices" : "notices-nobatch";
        var clients = Enumerable.Range(0, HotKeyNodes).Select(_ => LocalDynamoDb.CreateClient(endpoint)).ToArray();
        var nodes = new List<LockNode>();
        try
        {
            var table = await LocalDynamoDb.CreateTableAsync(clients[0], $"hot-{tag}", cancellationToken).ConfigureAwait(false);
            for (var n = 0; n < HotKeyNodes; n++)
            {
                nodes.Add(LockNode.Start($"hot-{tag}-{n + 1}", n == 0 ? table : LocalDynamoDb.OpenTable(clients[n], table.TableName), settings, remoting, remoteBatching));
            }

            // The first second is untimed: connections, JIT, and with notices the Akka.Remote associations between the nodes.
            var windowStart = Timing.After(Timing.Now(), TimeSpan.FromSeconds(1));
            var windowEnd = Timing.After(windowStart, options.HotKeyWindow);
            var loops = nodes.Select(node => Task.Run(() => LoopAsync(node.NewRequester(), workload, windowStart, windowEnd, cancellationToken), cancellationToken)).ToArray();
            var pairs = await Task.WhenAll(loops).ConfigureAwait(false);
            return new HotKeyRow(mode, remoting, remoteBatching, RefreshOf(settings, remoting).TotalSeconds, options.HotKeyWindow.TotalSeconds, pairs, workload);
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask())).ConfigureAwait(false);
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Acquire (waiting) → hold → release → think, until the window ends; counts the pairs whose release came back inside the window.</summary>
    private static async Task<int> LoopAsync(Requester requester, HotKeyWorkload workload, long windowStart, long windowEnd, CancellationToken cancellationToken)
    {
        const string key = "hot";
        var pairs = 0;
        while (Timing.Now() < windowEnd)
        {
            await requester.AcquireAsync(key, cancellationToken, wait: TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            await Task.Delay(workload.Hold, cancellationToken).ConfigureAwait(false);
            await requester.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
            var end = Timing.Now();
            if (end >= windowStart && end <= windowEnd)
            {
                pairs++;
            }

            await Task.Delay(workload.Think, cancellationToken).ConfigureAwait(false);
        }

        return pairs;
    }
}
