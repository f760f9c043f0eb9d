using Akka.Actor;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>The async facade for code outside actors.</summary>
public sealed class DynamoLockClientTests : LockTestKit
{
    private readonly InMemoryLockTable _memory = new();
    private readonly ControllableLockTable _table;
    private readonly DynamoLockClient _client;
    private readonly DynamoLockClient _otherNode;

    public DynamoLockClientTests(ITestOutputHelper output)
        : base(output)
    {
        _table = new ControllableLockTable(_memory);
        _client = new DynamoLockClient(Sys, StartManager(_table, FastSettings("client-node")));
        var node = StartNode("other-client-node");
        _otherNode = new DynamoLockClient(node, node.ActorOf(LockManager.Props(_memory, FastSettings("other-client-node"))));
    }

    private static string NewKey() => $"client/{Guid.NewGuid():N}";

    [Fact]
    public async Task A_handle_carries_the_grant_and_disposing_it_releases_the_lock()
    {
        var key = NewKey();

        await using (var handle = await _client.AcquireAsync(key, TimeSpan.FromSeconds(5), options: new AcquireOptions { Data = [5] }))
        {
            Assert.Equal(key, handle.Key);
            Assert.Equal(1, handle.FencingToken);
            Assert.Equal([5], handle.Data.ToArray());
            Assert.False(handle.LostToken.IsCancellationRequested);
            Assert.Null(await _otherNode.TryAcquireAsync(key));
        }

        Assert.True((await _memory.ReadAsync(new LockKey(key)))?.IsReleased);
        await using var next = await _otherNode.TryAcquireAsync(key);
        Assert.Equal(2, next?.FencingToken);
    }

    [Fact]
    public async Task Acquire_throws_with_the_reason_when_the_wait_runs_out()
    {
        var key = NewKey();
        await using var held = await _otherNode.AcquireAsync(key, TimeSpan.FromSeconds(5));

        var error = await Assert.ThrowsAsync<LockNotAcquiredException>(() => _client.AcquireAsync(key, TimeSpan.FromMilliseconds(300)));

        Assert.Equal(key, error.Key);
        Assert.Equal("other-client-node", error.CurrentOwner);
        Assert.Equal("Waited 300ms; the lock is held by 'other-client-node'.", error.Reason);
        Assert.Equal($"Lock '{key}' was not acquired: waited 300ms; the lock is held by 'other-client-node'.", error.Message);
    }

    [Fact]
    public async Task A_waiting_acquire_completes_when_the_holder_releases()
    {
        var key = NewKey();
        var held = await _client.AcquireAsync(key, TimeSpan.FromSeconds(5));
        var waiting = _client.AcquireAsync(key, Timeout.InfiniteTimeSpan);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await _client.GetStatusAsync(key)).Locks.Single().Waiters));

        Assert.True(await held.ReleaseAsync());
        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, next.FencingToken);
        Assert.True(await held.ReleaseAsync(), "a second release returns the first one's outcome");
    }

    [Fact]
    public async Task The_lost_token_fires_when_the_lock_is_lost()
    {
        var key = NewKey();
        await using var handle = await _client.AcquireAsync(key, TimeSpan.FromSeconds(5));
        var lost = new TaskCompletionSource();
        using var registration = handle.LostToken.Register(() => lost.TrySetResult());

        _table.FailHeartbeats = true;
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(handle.IsLost);
        Assert.Equal(LockLossReason.LeaseExpired, handle.LossReason);
        Assert.False(await handle.ReleaseAsync());
        Assert.False(await handle.StoreDataAsync([1]));
    }

    [Fact]
    public async Task Cancelling_a_wait_gives_up_the_place_in_the_queue()
    {
        var key = NewKey();
        var held = await _client.AcquireAsync(key, TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource();
        var waiting = _client.AcquireAsync(key, Timeout.InfiniteTimeSpan, cancellationToken: cancel.Token);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await _client.GetStatusAsync(key)).Locks.Single().Waiters));

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await AwaitAssertAsync(async () => Assert.Equal(0, (await _client.GetStatusAsync(key)).Locks.Single().Waiters));
        await held.DisposeAsync();
        await AwaitAssertAsync(async () => Assert.Empty((await _client.GetStatusAsync(key)).Locks));
        Assert.True((await _memory.ReadAsync(new LockKey(key)))?.IsReleased);
    }

    [Fact]
    public async Task Data_stored_through_a_handle_reaches_the_next_holder()
    {
        var key = NewKey();
        await using (var handle = await _client.AcquireAsync(key, TimeSpan.FromSeconds(5)))
        {
            Assert.True(await handle.StoreDataAsync([4, 2]));
        }

        await using var next = await _otherNode.AcquireAsync(key, TimeSpan.FromSeconds(5));
        Assert.Equal([4, 2], next.Data.ToArray());
    }

    [Fact]
    public async Task Invalid_input_is_an_argument_error()
    {
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => _client.TryAcquireAsync(""));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => _client.AcquireAsync("k", TimeSpan.Zero, options: new AcquireOptions { LeaseDuration = TimeSpan.FromDays(30) }));

        Assert.Contains("must not be empty", empty.Message, StringComparison.Ordinal);
        Assert.Contains("LeaseDuration", tooLong.Message, StringComparison.Ordinal);
    }
}

/// <summary>What the actor layer does when the DynamoDB table is missing: clear answers, no crash loop.</summary>
[Trait("Category", "DynamoDB")]
public sealed class MissingTableTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : LockTestKit(output), IClassFixture<DynamoDbTableFixture>
{
    [Fact]
    public async Task A_missing_table_is_reported_to_every_request_and_the_system_keeps_working()
    {
        var table = new ControllableLockTable(new DynamoDbLockTable(fixture.Client, new DynamoDbLockTableOptions { TableName = "missing-locks" }));
        var manager = StartManager(table, FastSettings("node-missing"));
        var client = new DynamoLockClient(Sys, manager);

        for (var i = 0; i < 3; i++)
        {
            // A missing table is a configuration error at once, not contention that waits out the 5 s.
            var error = await Assert.ThrowsAsync<LockTableNotFoundException>(() => client.AcquireAsync("orders", TimeSpan.FromSeconds(5)));
            Assert.Contains("'missing-locks' does not exist", error.Message, StringComparison.Ordinal);
            Assert.Equal("missing-locks", error.TableName);
            await Assert.ThrowsAsync<LockTableNotFoundException>(() => client.TryAcquireAsync("orders"));
        }

        Assert.Equal(6, table["TryAcquire"]);
        Assert.False(Sys.WhenTerminated.IsCompleted);
        var working = new DynamoLockClient(Sys, StartManager(fixture.Table, FastSettings("node-present")));
        await using var handle = await working.AcquireAsync($"orders/{Guid.NewGuid():N}", TimeSpan.FromSeconds(5));
        Assert.Equal(1, handle.FencingToken);
    }
}
