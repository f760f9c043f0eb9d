using Amazon.DynamoDBv2;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;
using Xunit;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>
/// Gives a test class its own table on the shared local DynamoDB server, a client whose requests are counted, and
/// tables of other shapes on demand. Tables are deleted when the class is done.
/// </summary>
public sealed class DynamoDbTableFixture : IAsyncLifetime
{
    private readonly List<string> _tables = [];
    private LocalDynamoDb? _server;
    private AmazonDynamoDBClient? _client;

    /// <summary>The server.</summary>
    public LocalDynamoDb Server => _server ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>A client whose requests <see cref="Requests"/> counts.</summary>
    public AmazonDynamoDBClient Client => _client ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>Counts <see cref="Client"/>'s requests.</summary>
    public RequestCounter Requests { get; } = new();

    /// <summary>This class's table, with the default (Java-compatible) schema.</summary>
    public DynamoDbLockTable Table { get; private set; } = null!;

    /// <summary>A table name no other test uses.</summary>
    public static string UniqueTableName(string prefix = "locks") => $"{prefix}-{Guid.NewGuid():N}";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await LocalDynamoDb.GetAsync().ConfigureAwait(false);
        _client = _server.CreateClient(Requests);
        Table = await CreateTableAsync(new DynamoDbLockTableOptions { TableName = UniqueTableName() }).ConfigureAwait(false);
    }

    /// <summary>Creates another table (deleted with the fixture) and returns an adapter for it.</summary>
    public async Task<DynamoDbLockTable> CreateTableAsync(DynamoDbLockTableOptions options, AmazonDynamoDBClient? client = null)
    {
        var table = new DynamoDbLockTable(client ?? Client, options);
        await table.EnsureTableAsync().ConfigureAwait(false);
        lock (_tables)
        {
            _tables.Add(options.TableName);
        }

        return table;
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_client is null)
        {
            return;
        }

        foreach (var table in _tables)
        {
            try
            {
                await _client.DeleteTableAsync(table).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AmazonDynamoDBException or HttpRequestException)
            {
                // The server may already be gone at the end of the run; the tables lived in its memory.
            }
        }

        _client.Dispose();
    }
}
