using Amazon.DynamoDBv2;
using Amazon.Runtime;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>Clients and lock tables on the local DynamoDB API server the run uses.</summary>
internal static class LocalDynamoDb
{
    /// <summary>A client with the SDK's defaults (retries, keep-alive) and fixed local credentials.</summary>
    public static AmazonDynamoDBClient CreateClient(string endpoint, HttpClientFactory? httpClientFactory = null)
    {
        var config = new AmazonDynamoDBConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1" };
        if (httpClientFactory is not null)
        {
            config.HttpClientFactory = httpClientFactory;
        }

        return new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), config);
    }

    /// <summary>A new, uniquely named lock table (created now).</summary>
    public static async Task<DynamoDbLockTable> CreateTableAsync(IAmazonDynamoDB client, string prefix, CancellationToken cancellationToken)
    {
        var table = new DynamoDbLockTable(client, new DynamoDbLockTableOptions { TableName = NewTableName(prefix) });
        await table.EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        return table;
    }

    /// <summary>Opens another node's view of an existing table, through its own client.</summary>
    public static DynamoDbLockTable OpenTable(IAmazonDynamoDB client, string tableName) =>
        new(client, new DynamoDbLockTableOptions { TableName = tableName });

    public static string NewTableName(string prefix) => $"bench-{prefix}-{Guid.NewGuid():N}";
}
