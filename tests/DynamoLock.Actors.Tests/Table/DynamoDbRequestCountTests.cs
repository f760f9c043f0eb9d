using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Table;

/// <summary>The protocol's round-trip budget, counted at the HTTP layer against the real local server.</summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbRequestCountTests(DynamoDbTableFixture fixture) : IClassFixture<DynamoDbTableFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);
    private ILockTable Table => fixture.Table;
    private RequestCounter Requests => fixture.Requests;

    private static LockKey NewKey() => new($"count/{Guid.NewGuid():N}");

    [Fact]
    public async Task An_uncontended_acquire_of_a_new_key_is_one_request()
    {
        var key = NewKey();
        Requests.Reset();

        Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease)));

        Assert.Equal(1, Requests.Total);
        Assert.Equal(1, Requests["UpdateItem"]);
    }

    [Fact]
    public async Task An_uncontended_acquire_of_a_released_key_is_one_request()
    {
        var key = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", held.RecordVersionNumber));
        Requests.Reset();

        var again = await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-b", Lease));

        Assert.Equal(2, Assert.IsType<AcquireResult.Granted>(again).Record.FencingToken);
        Assert.Equal(1, Requests.Total);
    }

    [Fact]
    public async Task A_heartbeat_is_one_request_and_so_is_a_release_or_a_delete()
    {
        var key = NewKey();
        var deleted = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        var toDelete = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(new AcquireLockRequest(deleted, "owner-a", Lease))).Record;

        Requests.Reset();
        var renewed = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease))).Record;
        Assert.Equal(1, Requests.Total);

        Requests.Reset();
        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", renewed.RecordVersionNumber)));
        Assert.Equal(1, Requests.Total);
        Assert.Equal(1, Requests["UpdateItem"]);

        Requests.Reset();
        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(deleted, "owner-a", toDelete.RecordVersionNumber) { DeleteRecord = true }));
        Assert.Equal(1, Requests.Total);
        Assert.Equal(1, Requests["DeleteItem"]);
    }

    [Fact]
    public async Task A_contended_acquire_is_the_failed_write_alone_where_the_server_returns_the_holder_else_plus_one_consistent_read()
    {
        var key = NewKey();
        await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease));
        Requests.Reset();

        var result = await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-b", Lease));

        Assert.Equal("owner-a", Assert.IsType<AcquireResult.Held>(result).Holder.OwnerName);
        Assert.Equal(1, Requests["UpdateItem"]);
        if (fixture.Server.ReturnsItemOnConditionFailure)
        {
            // DynamoDB Local (like DynamoDB) returns the holder's record with the failed condition (ALL_OLD).
            Assert.Equal(0, Requests["GetItem"]);
            Assert.Equal(1, Requests.Total);
        }
        else
        {
            // dynalite ignores ReturnValuesOnConditionCheckFailure: the holder is read back with one consistent GetItem.
            Assert.Equal(1, Requests["GetItem"]);
            Assert.Equal(2, Requests.Total);
        }
    }

    [Fact]
    public async Task Registering_a_waiter_is_one_request_and_a_release_still_one_with_the_waiters_returned()
    {
        var key = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;

        Requests.Reset();
        Assert.Equal(WaiterRegistration.Registered, await Table.AddWaiterAsync(key, "node-b"));
        Assert.Equal(1, Requests.Total);
        Assert.Equal(1, Requests["UpdateItem"]);

        Requests.Reset();
        Assert.Equal(WaiterRegistration.LockFree, await Table.AddWaiterAsync(NewKey(), "node-b"));
        Assert.Equal(1, Requests.Total);

        Requests.Reset();
        var released = Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", held.RecordVersionNumber)));
        Assert.Equal(["node-b"], released.Waiters);
        Assert.Equal(1, Requests.Total);
    }

    [Fact]
    public async Task A_takeover_is_one_request()
    {
        var key = NewKey();
        var abandoned = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        Requests.Reset();

        var taken = await Table.TakeOverAsync(new AcquireLockRequest(key, "owner-b", Lease), abandoned.RecordVersionNumber);

        Assert.Equal(2, Assert.IsType<AcquireResult.Granted>(taken).Record.FencingToken);
        Assert.Equal(1, Requests.Total);
    }
}
