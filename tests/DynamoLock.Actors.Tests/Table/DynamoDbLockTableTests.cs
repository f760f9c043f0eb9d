using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Table;

/// <summary>What only the DynamoDB adapter has to get right: the stored format, the table, errors and ambiguous outcomes.</summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbLockTableTests(DynamoDbTableFixture fixture) : IClassFixture<DynamoDbTableFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);

    private static LockKey NewKey() => new($"table/{Guid.NewGuid():N}");

    private async Task<Dictionary<string, AttributeValue>> RawItemAsync(string table, LockKey key) =>
        (await fixture.Client.GetItemAsync(new GetItemRequest { TableName = table, Key = new() { ["key"] = new AttributeValue { S = key.Key } }, ConsistentRead = true })).Item;

    [Fact]
    public async Task Records_are_stored_in_the_Java_lock_clients_format()
    {
        var key = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await fixture.Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease) { Data = [1, 2] })).Record;

        var item = await RawItemAsync(fixture.Table.TableName, key);

        Assert.Equal(key.Key, item["key"].S);
        Assert.Equal("owner-a", item["ownerName"].S);
        Assert.True(Guid.TryParse(item["recordVersionNumber"].S, out _));
        Assert.Equal("20000", item["leaseDuration"].S);
        Assert.Equal("1", item["fencingToken"].N);
        Assert.Equal([1, 2], item["data"].B.ToArray());
        Assert.False(item.ContainsKey("isReleased"));
        Assert.InRange(long.Parse(item["heartbeatAt"].N, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());

        await fixture.Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", held.RecordVersionNumber));
        Assert.Equal("1", (await RawItemAsync(fixture.Table.TableName, key))["isReleased"].S);
    }

    [Fact]
    public async Task A_record_written_by_the_Java_client_is_read_and_taken_over_with_token_1()
    {
        var key = NewKey();
        await fixture.Client.PutItemAsync(new PutItemRequest
        {
            TableName = fixture.Table.TableName,
            Item = new()
            {
                ["key"] = new AttributeValue { S = key.Key },
                ["ownerName"] = new AttributeValue { S = "java-host" },
                ["recordVersionNumber"] = new AttributeValue { S = "3d5e1b52-0d3c-4c55-8d5c-6d1f5a0b6a11" },
                ["leaseDuration"] = new AttributeValue { S = "10000" },
            },
        });

        var held = Assert.IsType<AcquireResult.Held>(await fixture.Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Holder;
        var taken = await fixture.Table.TakeOverAsync(new AcquireLockRequest(key, "owner-a", Lease), held.RecordVersionNumber);

        Assert.Equal("java-host", held.OwnerName);
        Assert.Equal(TimeSpan.FromSeconds(10), held.LeaseDuration);
        Assert.Equal(0, held.FencingToken);
        Assert.Equal(1, Assert.IsType<AcquireResult.Granted>(taken).Record.FencingToken);
    }

    [Fact]
    public async Task Waiters_are_a_string_set_a_record_without_it_reads_as_none_and_registering_keeps_the_Java_clients_version()
    {
        var key = NewKey();
        const string version = "7c0f6f0e-5d7e-4f0a-9a55-2b1d6f2e9d01";
        await fixture.Client.PutItemAsync(new PutItemRequest
        {
            TableName = fixture.Table.TableName,
            Item = new()
            {
                ["key"] = new AttributeValue { S = key.Key },
                ["ownerName"] = new AttributeValue { S = "java-host" },
                ["recordVersionNumber"] = new AttributeValue { S = version },
                ["leaseDuration"] = new AttributeValue { S = "10000" },
            },
        });

        Assert.Empty((await fixture.Table.ReadAsync(key))!.Waiters);
        Assert.Equal(WaiterRegistration.Registered, await fixture.Table.AddWaiterAsync(key, "akka.tcp://sys@10.0.0.2:4053"));

        // The Java client's heartbeat is conditioned on its version number: still the one it wrote.
        var item = await RawItemAsync(fixture.Table.TableName, key);
        Assert.Equal(version, item["recordVersionNumber"].S);
        Assert.Equal(["akka.tcp://sys@10.0.0.2:4053"], item["waiters"].SS);
        Assert.Equal(5, item.Count);
    }

    [Fact]
    public async Task Expires_at_is_written_only_when_a_record_time_to_live_is_configured()
    {
        var table = new DynamoDbLockTable(fixture.Client, fixture.Table.Options with { RecordTimeToLive = TimeSpan.FromDays(1) });
        var key = NewKey();
        var before = DateTimeOffset.UtcNow;

        var granted = Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        var plain = Assert.IsType<AcquireResult.Granted>(await fixture.Table.TryAcquireAsync(new AcquireLockRequest(NewKey(), "owner-a", Lease))).Record;

        Assert.NotNull(granted.ExpiresAt);
        Assert.InRange(granted.ExpiresAt.Value, before + Lease + TimeSpan.FromDays(1) - TimeSpan.FromSeconds(2), before + Lease + TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        Assert.Null(plain.ExpiresAt);
    }

    [Fact]
    public async Task A_missing_table_fails_with_its_name_and_how_to_create_it()
    {
        var table = new DynamoDbLockTable(fixture.Client, new DynamoDbLockTableOptions { TableName = "no-such-locks" });

        var error = await Assert.ThrowsAsync<LockTableNotFoundException>(() => table.TryAcquireAsync(new AcquireLockRequest(NewKey(), "owner-a", Lease)));

        Assert.Equal("no-such-locks", error.TableName);
        Assert.Contains("'no-such-locks' does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("create-table", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task A_table_with_another_key_schema_is_named_in_the_error()
    {
        var name = DynamoDbTableFixture.UniqueTableName("wrong-schema");
        await fixture.Client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            AttributeDefinitions = [new AttributeDefinition { AttributeName = "id", AttributeType = ScalarAttributeType.S }],
            KeySchema = [new KeySchemaElement { AttributeName = "id", KeyType = KeyType.HASH }],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        });
        var table = new DynamoDbLockTable(fixture.Client, new DynamoDbLockTableOptions { TableName = name });

        var ensure = await Assert.ThrowsAsync<LockTableConfigurationException>(() => table.EnsureTableAsync());
        var acquire = await Assert.ThrowsAsync<LockTableConfigurationException>(() => table.TryAcquireAsync(new AcquireLockRequest(NewKey(), "owner-a", Lease)));

        Assert.Contains("partition key 'id'", ensure.Message, StringComparison.Ordinal);
        Assert.Contains("partition key 'key'", ensure.Message, StringComparison.Ordinal);
        Assert.Contains(name, acquire.Message, StringComparison.Ordinal);
        Assert.False(acquire.IsTransient);
        await fixture.Client.DeleteTableAsync(name);
    }

    [Fact]
    public async Task Ensure_table_creates_an_on_demand_table_once_and_carries_on_without_time_to_live_support()
    {
        var options = new DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("ensure") };
        var table = new DynamoDbLockTable(fixture.Client, options);

        var first = await table.EnsureTableAsync();
        var second = await table.EnsureTableAsync();
        var description = (await fixture.Client.DescribeTableAsync(options.TableName)).Table;

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(TableStatus.ACTIVE, description.TableStatus);
        Assert.Equal(BillingMode.PAY_PER_REQUEST, description.BillingModeSummary?.BillingMode);
        // dynalite has no time-to-live (null); DynamoDB Local and DynamoDB enable it (true).
        Assert.NotEqual(false, first.TimeToLiveEnabled);
        Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(NewKey(), "owner-a", Lease)));
        await fixture.Client.DeleteTableAsync(options.TableName);
    }
}
