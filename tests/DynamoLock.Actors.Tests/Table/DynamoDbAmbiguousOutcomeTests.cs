using Amazon.DynamoDBv2;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Table;

/// <summary>
/// Writes whose outcome the client cannot see (a lost response, a 5xx) and failures that must be reported as
/// retryable, injected at the HTTP layer in front of the real local server.
/// </summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbAmbiguousOutcomeTests : IClassFixture<DynamoDbTableFixture>, IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);
    private readonly FaultInjector _faults = new();
    private readonly AmazonDynamoDBClient _client;
    private readonly AmazonDynamoDBClient _retryingClient;
    private readonly FaultInjector _retryingFaults = new();
    private readonly DynamoDbLockTable _table;
    private readonly DynamoDbLockTable _retryingTable;

    public DynamoDbAmbiguousOutcomeTests(DynamoDbTableFixture fixture)
    {
        // Without SDK retries the adapter sees the fault itself; with them, the SDK's retry meets the applied write.
        _client = fixture.Server.CreateClient(_faults, maxErrorRetry: 0);
        _retryingClient = fixture.Server.CreateClient(_retryingFaults, maxErrorRetry: 2);
        _table = new DynamoDbLockTable(_client, fixture.Table.Options);
        _retryingTable = new DynamoDbLockTable(_retryingClient, fixture.Table.Options);
    }

    public void Dispose()
    {
        _client.Dispose();
        _retryingClient.Dispose();
    }

    private static LockKey NewKey() => new($"ambiguous/{Guid.NewGuid():N}");

    public static TheoryData<bool> SdkRetries => new() { false, true };

    private (DynamoDbLockTable Table, FaultInjector Faults) Pick(bool sdkRetries) => sdkRetries ? (_retryingTable, _retryingFaults) : (_table, _faults);

    [Theory]
    [MemberData(nameof(SdkRetries))]
    public async Task An_acquire_whose_response_was_lost_is_resolved_as_granted(bool sdkRetries)
    {
        var (table, faults) = Pick(sdkRetries);
        var key = NewKey();
        faults.Arm("UpdateItem", HttpFault.LoseResponse);

        var result = await table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease));

        var granted = Assert.IsType<AcquireResult.Granted>(result).Record;
        Assert.Equal(1, granted.FencingToken);
        Assert.Equal(granted.RecordVersionNumber, (await table.ReadAsync(key))?.RecordVersionNumber);
    }

    [Theory]
    [MemberData(nameof(SdkRetries))]
    public async Task A_heartbeat_whose_response_was_lost_is_resolved_as_renewed(bool sdkRetries)
    {
        var (table, faults) = Pick(sdkRetries);
        var key = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        faults.Arm("UpdateItem", HttpFault.LoseResponse);

        var result = await table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease));

        var renewed = Assert.IsType<HeartbeatResult.Renewed>(result).Record;
        Assert.NotEqual(held.RecordVersionNumber, renewed.RecordVersionNumber);
        Assert.Equal(renewed.RecordVersionNumber, (await table.ReadAsync(key))?.RecordVersionNumber);
        Assert.IsType<HeartbeatResult.Renewed>(await table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", renewed.RecordVersionNumber, Lease)));
    }

    [Theory]
    [MemberData(nameof(SdkRetries))]
    public async Task A_release_whose_response_was_lost_is_resolved_as_released(bool sdkRetries)
    {
        var (table, faults) = Pick(sdkRetries);
        var key = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        faults.Arm("UpdateItem", HttpFault.LoseResponse);

        var result = await table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", held.RecordVersionNumber));

        Assert.IsType<ReleaseResult.Released>(result);
        Assert.True((await table.ReadAsync(key))?.IsReleased);
    }

    [Fact]
    public async Task A_heartbeat_that_never_reached_the_server_is_retryable_and_the_lock_is_still_held()
    {
        var key = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await _table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        _faults.Arm("UpdateItem", HttpFault.DropBeforeSending);

        var error = await Assert.ThrowsAsync<LockTableUnavailableException>(() => _table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease)));

        Assert.True(error.IsTransient);
        Assert.IsType<HeartbeatResult.Renewed>(await _table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease)));
    }

    [Theory]
    [InlineData(HttpFault.Throttle)]
    [InlineData(HttpFault.ServerError)]
    public async Task Throttling_and_server_errors_are_reported_as_retryable(HttpFault fault)
    {
        var key = NewKey();
        _faults.Arm("UpdateItem", fault);

        var error = await Assert.ThrowsAsync<LockTableUnavailableException>(() => _table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease)));

        Assert.True(error.IsTransient);
        Assert.Contains(_table.TableName, error.Message, StringComparison.Ordinal);
        Assert.IsType<AcquireResult.Granted>(await _table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease)));
    }

    [Fact]
    public async Task A_failed_read_while_resolving_an_ambiguous_write_is_retryable()
    {
        var key = NewKey();
        var held = Assert.IsType<AcquireResult.Granted>(await _table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        _faults.Arm("UpdateItem", HttpFault.LoseResponse);
        _faults.Arm("GetItem", HttpFault.ServerError);

        var error = await Assert.ThrowsAsync<LockTableUnavailableException>(() => _table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease)));

        Assert.Contains("unknown outcome", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_is_honoured_and_not_reported_as_a_table_error()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _table.TryAcquireAsync(new AcquireLockRequest(NewKey(), "owner-a", Lease), cancelled.Token));
    }
}
