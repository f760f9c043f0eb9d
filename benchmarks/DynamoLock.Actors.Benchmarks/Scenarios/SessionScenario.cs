using System.Diagnostics;
using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>Heartbeat writes of one node holding <see cref="Locks"/> idle locks, counted at the HTTP layer over whole intervals.</summary>
internal sealed record SessionHeartbeatRow(string Mode, int Locks, double IntervalSeconds, int Intervals, int UpdateItems, int OtherRequests, int LocksLost)
{
    public double WritesPerInterval => (double)UpdateItems / Intervals;
}

/// <summary>One node takes over every lock of a node that was killed while holding them under its session.</summary>
internal sealed record SessionTakeoverRow(int Locks, double LeaseSeconds, double DriftSeconds, double RefreshSeconds, double FirstGrantSeconds, double LastGrantSeconds, int UpdateItems, int GetItems, int OtherRequests)
{
    /// <summary>The bound the issue sets: lease + drift allowance + one refresh, from the kill.</summary>
    public double BoundSeconds => LeaseSeconds + DriftSeconds + RefreshSeconds;
}

/// <summary>The session-mode scenario's two parts.</summary>
internal sealed record SessionResults(IReadOnlyList<SessionHeartbeatRow> Heartbeats, SessionTakeoverRow? Takeover);

/// <summary>
/// Scenario 7: session mode against the local DynamoDB server. (a) One node holds N locks with the default lease (20 s)
/// and heartbeat (5 s) in per-lock mode (1,000), then in session mode (10,000), and its UpdateItem requests are counted at the HTTP layer
/// over ten whole heartbeat intervals (two in a quick run). (b) A node holding N locks under its session is killed (from then on none of its
/// requests leave); another node, already waiting for every key, takes them all over: the time from the kill to its
/// last grant, and its requests.
/// </summary>
internal static class SessionScenario
{
    private const int Intervals = 10;

    // Acquires outstanding at once: a local server answers a burst of thousands of writes slower than a lease allows.
    private const int InFlight = 64;

    public static async Task<SessionResults> RunAsync(string endpoint, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        // Per-lock mode at 10,000 locks would be 2,000 heartbeat writes a second, more than a local server on two shared
        // cores answers within the lease (the first full run lost thousands of locks that way): it is counted at 1,000.
        var heartbeats = new List<SessionHeartbeatRow>
        {
            await HeartbeatsAsync(endpoint, options.Quick ? 500 : 1_000, sessions: false, options, cancellationToken).ConfigureAwait(false),
            await HeartbeatsAsync(endpoint, options.Quick ? 1_000 : 10_000, sessions: true, options, cancellationToken).ConfigureAwait(false),
        };
        var takeover = await TakeoverAsync(endpoint, options.Quick ? 200 : 1_000, cancellationToken).ConfigureAwait(false);
        return new SessionResults(heartbeats, takeover);
    }

    private static async Task<SessionHeartbeatRow> HeartbeatsAsync(string endpoint, int locks, bool sessions, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var settings = new DynamoLockSettings { UseSessions = sessions };
        var counter = new RequestCounter();
        using var client = LocalDynamoDb.CreateClient(endpoint, counter);
        var table = await LocalDynamoDb.CreateTableAsync(client, sessions ? "heartbeats-session" : "heartbeats-per-lock", cancellationToken).ConfigureAwait(false);
        await using var node = LockNode.Start(sessions ? "session-mode" : "per-lock-mode", table, settings);
        var lost = new LossCounter(node);
        _ = await BulkHolder.HoldAsync(node.System, node.Manager, "hb-", locks, cancellationToken, InFlight).ConfigureAwait(false);

        // Locks acquired together heartbeat together: the window starts half an interval after the grants and lasts
        // whole intervals, so that it holds whole bunches rather than cutting one.
        var interval = settings.HeartbeatInterval;
        await Task.Delay(interval / 2, cancellationToken).ConfigureAwait(false);
        counter.Reset();
        var intervals = options.Quick ? 2 : Intervals;
        await Task.Delay(interval * intervals, cancellationToken).ConfigureAwait(false);
        var counts = counter.Counts;
        var updates = counts.GetValueOrDefault("UpdateItem");
        return new SessionHeartbeatRow(sessions ? "session" : "per-lock", locks, interval.TotalSeconds, intervals, updates, counts.Values.Sum() - updates, lost.Count);
    }

    private static async Task<SessionTakeoverRow> TakeoverAsync(string endpoint, int locks, CancellationToken cancellationToken)
    {
        var lease = TimeSpan.FromSeconds(10);
        var holderSettings = new DynamoLockSettings { UseSessions = true, LeaseDuration = lease, HeartbeatInterval = lease / 4 };
        var killable = new KillableClient();
        using var holderClient = LocalDynamoDb.CreateClient(endpoint, killable);
        var holderTable = await LocalDynamoDb.CreateTableAsync(holderClient, "takeover", cancellationToken).ConfigureAwait(false);
        await using var holder = LockNode.Start("killed-node", holderTable, holderSettings);
        _ = await BulkHolder.HoldAsync(holder.System, holder.Manager, "t-", locks, cancellationToken, InFlight).ConfigureAwait(false);

        // The taker waits for every key. It holds what it takes with a lease of its own of a minute, so that nothing it
        // writes after a grant (a heartbeat every 15 s) falls inside the measured window.
        var counter = new RequestCounter();
        using var takerClient = LocalDynamoDb.CreateClient(endpoint, counter);
        var takerSettings = new DynamoLockSettings();
        await using var taker = LockNode.Start("taker", LocalDynamoDb.OpenTable(takerClient, holderTable.TableName), takerSettings);
        var (_, held) = BulkHolder.Start(taker.System, taker.Manager, "t-", locks, new AcquireOptions
        {
            WaitTimeout = TimeSpan.FromMinutes(2),
            LeaseDuration = TimeSpan.FromMinutes(1),
        });
        while ((await taker.Client.GetStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Locks.Count(l => l.State == LockState.Waiting) < locks)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        var firstGrant = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var killedAt = Stopwatch.GetTimestamp();
        taker.System.EventStream.Subscribe(taker.System.ActorOf(Akka.Actor.Props.Create(() => new FirstEvent<LockAcquired>(() => firstGrant.TrySetResult(Stopwatch.GetElapsedTime(killedAt))))), typeof(LockAcquired));
        killable.Kill();
        counter.Reset();
        await held.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false);
        var last = Stopwatch.GetElapsedTime(killedAt);
        var counts = counter.Counts;
        var first = firstGrant.Task.IsCompleted ? await firstGrant.Task.ConfigureAwait(false) : last;
        var updates = counts.GetValueOrDefault("UpdateItem");
        var reads = counts.GetValueOrDefault("GetItem");
        return new SessionTakeoverRow(
            locks,
            lease.TotalSeconds,
            takerSettings.DriftAllowance.TotalSeconds,
            takerSettings.RefreshInterval.TotalSeconds,
            first.TotalSeconds,
            last.TotalSeconds,
            updates,
            reads,
            counts.Values.Sum() - updates - reads);
    }

    /// <summary>Counts the LockLost events of one node (none is expected while it holds idle locks).</summary>
    private sealed class LossCounter
    {
        private int _count;

        public LossCounter(LockNode node) =>
            node.System.EventStream.Subscribe(node.System.ActorOf(Akka.Actor.Props.Create(() => new FirstEvent<LockLost>(() => Interlocked.Increment(ref _count), true))), typeof(LockLost));

        public int Count => Volatile.Read(ref _count);
    }

    /// <summary>Calls back on the first event of a type (or on every one).</summary>
    private sealed class FirstEvent<T> : Akka.Actor.ReceiveActor
    {
        public FirstEvent(Action callback, bool every = false)
        {
            var called = false;
            Receive<T>(_ =>
            {
                if (every || !called)
                {
                    called = true;
                    callback();
                }
            });
        }
    }
}
