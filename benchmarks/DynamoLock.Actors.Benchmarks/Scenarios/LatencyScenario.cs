using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using DynamoLock.Actors.Benchmarks.Infrastructure;
using DynamoLock.Actors.Benchmarks.Report;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>
/// Scenario 1: one uncontended acquire+release, end to end, against the physical limit: two conditional UpdateItem
/// calls from the same SDK client to the same server. The series run in interleaved blocks so that a change in the
/// machine's load during the run touches all of them alike.
/// </summary>
internal static class LatencyScenario
{
    private const int BlockSize = 50;

    public static async Task<IReadOnlyList<LatencySeries>> RunAsync(string endpoint, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        using var client = LocalDynamoDb.CreateClient(endpoint);
        var table = await LocalDynamoDb.CreateTableAsync(client, "latency", cancellationToken).ConfigureAwait(false);
        await using var node = LockNode.Start("latency", table);
        await using var memoryNode = LockNode.Start("latency-memory", new InMemoryLockTable());
        var requester = node.NewRequester();
        var memoryRequester = memoryNode.NewRequester();
        var owner = $"raw-{Environment.ProcessId}";

        var series = new (string Name, string Description, Func<Task> Run)[]
        {
            ("raw", "two conditional UpdateItem calls (the limit)", () => RawTwoWritesAsync(client, table.TableName, owner, cancellationToken)),
            ("table", "DynamoDbLockTable.TryAcquireAsync + ReleaseAsync (no actors)", () => TableAsync(table, owner, cancellationToken)),
            ("actor", "Acquire/Release messages to the LockManager", () => ActorAsync(requester, "actor", cancellationToken)),
            ("facade", "DynamoLockClient.AcquireAsync + LockHandle.DisposeAsync", () => FacadeAsync(node.Client, "facade", cancellationToken)),
            ("actor, in-memory", "Acquire/Release messages, InMemoryLockTable", () => ActorAsync(memoryRequester, "actor", cancellationToken)),
            ("facade, in-memory", "DynamoLockClient, InMemoryLockTable", () => FacadeAsync(memoryNode.Client, "facade", cancellationToken)),
        };

        var samples = series.Select(_ => new List<double>(options.LatencyIterations)).ToArray();
        foreach (var (_, _, run) in series)
        {
            for (var i = 0; i < options.LatencyWarmup; i++)
            {
                await run().ConfigureAwait(false);
            }
        }

        for (var done = 0; done < options.LatencyIterations; done += BlockSize)
        {
            var block = Math.Min(BlockSize, options.LatencyIterations - done);
            for (var s = 0; s < series.Length; s++)
            {
                for (var i = 0; i < block; i++)
                {
                    var start = Timing.Now();
                    await series[s].Run().ConfigureAwait(false);
                    samples[s].Add(Timing.MillisecondsSince(start));
                }
            }
        }

        return series.Select((s, i) => LatencySeries.Of(s.Name, s.Description, samples[i])).ToArray();
    }

    /// <summary>The least a lock can do: take the record if nobody owns it, then give it back if we still own it.</summary>
    internal static async Task RawTwoWritesAsync(IAmazonDynamoDB client, string tableName, string owner, CancellationToken cancellationToken)
    {
        var key = new Dictionary<string, AttributeValue> { ["key"] = new AttributeValue { S = "raw" } };
        await client.UpdateItemAsync(
            new UpdateItemRequest
            {
                TableName = tableName,
                Key = key,
                UpdateExpression = "SET #owner = :owner, leaseDuration = :lease ADD fencingToken :one",
                ConditionExpression = "attribute_not_exists(#key) OR attribute_not_exists(#owner)",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#owner"] = "ownerName", ["#key"] = "key" },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                {
                    [":owner"] = new AttributeValue { S = owner },
                    [":lease"] = new AttributeValue { N = "20000" },
                    [":one"] = new AttributeValue { N = "1" },
                },
            },
            cancellationToken).ConfigureAwait(false);
        await client.UpdateItemAsync(
            new UpdateItemRequest
            {
                TableName = tableName,
                Key = key,
                UpdateExpression = "REMOVE #owner",
                ConditionExpression = "#owner = :owner",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#owner"] = "ownerName" },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":owner"] = new AttributeValue { S = owner } },
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task TableAsync(DynamoDbLockTable table, string owner, CancellationToken cancellationToken)
    {
        var key = new LockKey("table");
        var granted = await table.TryAcquireAsync(new AcquireLockRequest(key, owner, TimeSpan.FromSeconds(20)), cancellationToken).ConfigureAwait(false) as AcquireResult.Granted
            ?? throw new InvalidOperationException("The uncontended table acquire was refused.");
        if (await table.ReleaseAsync(new ReleaseLockRequest(key, owner, granted.Record.RecordVersionNumber), cancellationToken).ConfigureAwait(false) is not ReleaseResult.Released)
        {
            throw new InvalidOperationException("The table release was refused.");
        }
    }

    private static async Task ActorAsync(Requester requester, string key, CancellationToken cancellationToken)
    {
        await requester.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
        await requester.ReleaseAsync(key, cancellationToken).ConfigureAwait(false);
    }

    private static async Task FacadeAsync(DynamoLockClient client, string key, CancellationToken cancellationToken)
    {
        var handle = await client.AcquireAsync(key, TimeSpan.Zero, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!await handle.ReleaseAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException("The facade release was refused.");
        }
    }
}
