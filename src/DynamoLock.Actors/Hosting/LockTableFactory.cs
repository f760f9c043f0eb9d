using System.Collections.Concurrent;
using Akka.Configuration;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Hosting;

/// <summary>Builds the lock table a <c>dynamolock.table</c> HOCON section describes.</summary>
internal static class LockTableFactory
{
    private static readonly ConcurrentDictionary<string, InMemoryLockTable> InMemoryTables = new(StringComparer.Ordinal);

    /// <summary>
    /// The table for <paramref name="config"/> (the <c>dynamolock</c> section, defaults included): an in-memory table shared by
    /// name within the process, or a <see cref="DynamoDbLockTable"/> on <paramref name="client"/> (or a client made from the
    /// section's service URL and region, else the AWS SDK's configuration).
    /// </summary>
    /// <exception cref="ArgumentException">A table setting is invalid; the message names it.</exception>
    public static ILockTable Create(Config config, IAmazonDynamoDB? client = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var table = config.GetConfig("table") ?? Config.Empty;
        var name = table.GetString("name", DynamoDbLockTableOptions.DefaultTableName);
        var store = table.GetString("store", "dynamodb");
        switch (store)
        {
            case "in-memory":
                return InMemoryTables.GetOrAdd(name, n => new InMemoryLockTable(n));
            case "dynamodb":
                var ttl = table.GetString("record-time-to-live", string.Empty);
                var options = new DynamoDbLockTableOptions
                {
                    TableName = name,
                    PartitionKeyName = table.GetString("partition-key", "key"),
                    SortKeyName = table.GetString("sort-key", string.Empty) is { Length: > 0 } sortKey ? sortKey : null,
                    RecordTimeToLive = string.IsNullOrWhiteSpace(ttl) ? null : table.GetTimeSpan("record-time-to-live"),
                }.Validate();
                return new DynamoDbLockTable(client ?? CreateClient(table), options);
            default:
                throw new ArgumentException($"dynamolock.table.store must be 'dynamodb' or 'in-memory' (got '{store}').", "store");
        }
    }

    /// <summary>
    /// A DynamoDB client from a <c>dynamolock.table</c> section's <c>service-url</c> and <c>region</c>, else
    /// <c>AWS_ENDPOINT_URL_DYNAMODB</c> / <c>AWS_ENDPOINT_URL</c>, else the AWS SDK's configuration. A loopback endpoint
    /// works without AWS credentials (local servers accept any).
    /// </summary>
    /// <exception cref="ArgumentException">The service URL is not an absolute http or https URL.</exception>
    public static IAmazonDynamoDB CreateClient(Config tableConfig)
    {
        ArgumentNullException.ThrowIfNull(tableConfig);
        return DynamoDbClients.Create(
            tableConfig.GetString("service-url", string.Empty),
            tableConfig.GetString("region", string.Empty),
            "dynamolock.table.service-url");
    }
}
