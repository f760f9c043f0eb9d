using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>HTTP requests one lock operation sent, by DynamoDB operation (SDK retries included), on the named server.</summary>
internal sealed record RoundTripRow(string Operation, IReadOnlyDictionary<string, int> Requests, string Target, string Note, string Server = "")
{
    public int Total => Requests.Values.Sum();

    public string Breakdown => Requests.Count == 0 ? "none" : string.Join(" + ", Requests.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Value} {p.Key}"));
}

/// <summary>
/// Scenario 2: round trips per operation, counted at the HTTP layer of the measured node's DynamoDB client while it
/// goes through the actor API (so everything the library sends is counted, not only the table calls).
/// </summary>
internal static class RoundTripScenario
{
    public const string ContendedAcquire = "contended acquire (no wait)";

    /// <summary>Counts on <paramref name="server"/> (a display name such as "dynalite" or "DynamoDB Local", for the report).</summary>
    public static async Task<IReadOnlyList<RoundTripRow>> RunAsync(string endpoint, string server, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        var counter = new RequestCounter();
        using var countedClient = LocalDynamoDb.CreateClient(endpoint, counter);
        using var otherClient = LocalDynamoDb.CreateClient(endpoint);
        var table = await LocalDynamoDb.CreateTableAsync(countedClient, "round-trips", cancellationToken).ConfigureAwait(false);
        var otherTable = LocalDynamoDb.OpenTable(otherClient, table.TableName);
        var settings = new DynamoLockSettings { RefreshInterval = TimeSpan.FromMilliseconds(250) };
        await using var node = LockNode.Start("counted", table, settings);
        await using var other = LockNode.Start("other", otherTable, settings);
        var requester = node.NewRequester();
        var rows = new List<RoundTripRow>();

        async Task Count(string operation, string target, string note, Func<Task> act)
        {
            counter.Reset();
            await act().ConfigureAwait(false);
            rows.Add(new RoundTripRow(operation, counter.Counts, target, note, server));
        }

        await Count("uncontended acquire (new key)", "1", "", () => requester.AcquireAsync("a", cancellationToken));
        await Count("release", "1", "record kept, marked released", () => requester.ReleaseAsync("a", cancellationToken));
        await Count("uncontended acquire (released key)", "1", "", () => requester.AcquireAsync("a", cancellationToken));

        // Heartbeats: count requests over a fixed window while one lock is held, per heartbeat period.
        await requester.ReleaseAsync("a", cancellationToken).ConfigureAwait(false);
        var heartbeat = TimeSpan.FromMilliseconds(500);
        var window = options.Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(10);
        await requester.AcquireAsync("h", cancellationToken, options: new AcquireOptions { LeaseDuration = TimeSpan.FromSeconds(2), HeartbeatInterval = heartbeat }).ConfigureAwait(false);
        var periods = window / heartbeat;
        await Count($"heartbeats of one lock over {periods:0} periods", $"{periods:0}", $"one lock held with a {heartbeat.TotalMilliseconds:0} ms heartbeat for {window.TotalSeconds:0} s", () => Task.Delay(window, cancellationToken));
        await requester.ReleaseAsync("h", cancellationToken).ConfigureAwait(false);

        // Contended: another node holds the lock; one try without waiting.
        await other.NewRequester().AcquireAsync("c", cancellationToken).ConfigureAwait(false);
        var contendedNote = server == LocalDynamoDbServerKind.Dynalite.DisplayName()
            ? "dynalite ignores ReturnValuesOnConditionCheckFailure, so the holder is read back with GetItem"
            : "the failed write returns the holder's record (ReturnValuesOnConditionCheckFailure=ALL_OLD), as DynamoDB does";
        await Count(ContendedAcquire, "1", contendedNote, async () =>
            (await requester.SendAsync(new Acquire("c"), cancellationToken).ConfigureAwait(false)).Expect<LockNotAcquired>());

        // Takeover: a holder that stopped heartbeating (a record written once, with a 2 s lease), waited out.
        await otherTable.TryAcquireAsync(new AcquireLockRequest(new LockKey("t"), "crashed-holder", TimeSpan.FromSeconds(2)), cancellationToken).ConfigureAwait(false);
        var pollsNote = $"1 failed try (+ 1 read where the server does not return the holder), then a consistent read each {settings.RefreshInterval.TotalMilliseconds:0} ms refresh while waiting out the 2 s lease, then 1 takeover write";
        await Count("takeover of an expired lease (whole wait)", "1 write", pollsNote, () => requester.AcquireAsync("t", cancellationToken, wait: TimeSpan.FromSeconds(30)));

        // Hand-off on one node: the release and the waiter's grant are one write.
        var waiter = node.NewRequester();
        await requester.AcquireAsync("o", cancellationToken).ConfigureAwait(false);
        var waiting = waiter.AcquireAsync("o", cancellationToken, wait: TimeSpan.FromSeconds(30));
        await node.WaitForAsync("o", info => info.Waiters == 1, cancellationToken).ConfigureAwait(false);
        await Count("same-node hand-off (release + grant)", "1", "the next fencing token is minted by a heartbeat write", async () =>
        {
            await requester.ReleaseAsync("o", cancellationToken).ConfigureAwait(false);
            await waiting.ConfigureAwait(false);
        });
        return rows;
    }
}
