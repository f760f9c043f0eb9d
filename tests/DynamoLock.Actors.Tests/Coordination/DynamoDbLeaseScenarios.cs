using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Coordination;
using DynamoLock.Actors.Coordination;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Coordination;

/// <summary>
/// The Akka.Coordination lease as Akka's LeaseProvider creates it, one actor system per node, on a shared table:
/// acquire/release/check semantics, the loss callback, and takeover of an abandoned lease by a retried Acquire().
/// </summary>
public abstract class DynamoDbLeaseScenarios(ITestOutputHelper output) : IDisposable
{
    private const string LeaseConfig = """
        akka.loglevel = INFO
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        akka.coordination.lease.dynamodb {
          heartbeat-timeout = 2s
          heartbeat-interval = 400ms
          lease-operation-timeout = 5s
          refresh-interval = 100ms
          drift-allowance = 200ms
          safety-margin = 800ms
          # These scenarios assert refusals: each answers at once, as Akka's lease users retry on their own timer
          # (LeaseAcquireWaitTests covers the wait).
          acquire-wait = 0s
        }
        """;

    private LeaseNodes? _nodes;

    protected abstract ILockTable SharedTable { get; }

    /// <summary>Whether the nodes' leases share their node's session (<c>session = on</c>).</summary>
    protected virtual bool UseSession => false;

    public void Dispose()
    {
        _nodes?.Dispose();
        GC.SuppressFinalize(this);
    }

    private (Lease Lease, ControllableLockTable Table) LeaseOn(string node, string leaseName)
    {
        var config = UseSession ? LeaseConfig + "\nakka.coordination.lease.dynamodb.session = on" : LeaseConfig;
        var (system, table) = (_nodes ??= new LeaseNodes(SharedTable, config)).Start(node);
        var lease = LeaseProvider.Get(system).GetLease(leaseName, DynamoDbLease.ConfigPath, $"{node}@127.0.0.1:2552");
        return (lease, table);
    }

    private static string NewLeaseName() => $"sys-singleton-akka://sys/user/singleton-{Guid.NewGuid():N}";

    [Fact]
    public async Task A_lease_is_granted_to_one_owner_at_a_time_and_check_lease_follows_it()
    {
        var name = NewLeaseName();
        var (a, _) = LeaseOn("lease-a", name);
        var (b, _) = LeaseOn("lease-b", name);

        Assert.IsType<DynamoDbLease>(a);
        Assert.True(await a.Acquire());
        var record = await SharedTable.ReadAsync(new LockKey(name));
        Assert.Equal(UseSession, record?.SessionKey is not null);
        Assert.True(await a.Acquire(), "acquiring a held lease again is true");
        Assert.True(a.CheckLease());
        Assert.False(await b.Acquire());
        Assert.False(b.CheckLease());

        Assert.True(await a.Release());
        Assert.False(a.CheckLease());
        Assert.True(await b.Acquire());
        Assert.True(b.CheckLease());
        Assert.False(await a.Acquire());
        Assert.False(await a.Release(), "releasing a lease not held is false");
    }

    [Fact]
    public async Task The_loss_callback_is_called_when_heartbeats_fail_and_check_lease_turns_false()
    {
        var (a, table) = LeaseOn("lease-lost", NewLeaseName());
        var lost = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await a.Acquire(e => lost.TrySetResult(e)));

        table.FailHeartbeats = true;
        var reason = await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.IsType<LeaseException>(reason);
        Assert.Contains("LeaseExpired", reason!.Message, StringComparison.Ordinal);
        Assert.False(a.CheckLease());
    }

    [Fact]
    public async Task Acquiring_a_held_lease_again_replaces_the_loss_callback()
    {
        var (a, table) = LeaseOn("lease-recall", NewLeaseName());
        var first = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await a.Acquire(e => first.TrySetResult(e)));
        Assert.True(await a.Acquire(e => second.TrySetResult(e)));

        table.FailHeartbeats = true;

        Assert.IsType<LeaseException>(await second.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(first.Task.IsCompleted);
    }

    [Fact]
    public async Task A_retried_acquire_takes_over_a_lease_abandoned_for_its_full_heartbeat_timeout()
    {
        var name = NewLeaseName();
        var (a, tableA) = LeaseOn("lease-dead", name);
        var (b, _) = LeaseOn("lease-next", name);
        var lostAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(await a.Acquire(_ => lostAt.TrySetResult(Stopwatch.GetTimestamp())));
        Assert.False(await b.Acquire());

        tableA.Freeze();
        var frozen = Stopwatch.GetTimestamp();
        var attempts = 1;
        while (!await b.Acquire())
        {
            attempts++;
            Assert.True(Stopwatch.GetElapsedTime(frozen) < TimeSpan.FromSeconds(15), "the abandoned lease was never taken over");
            await Task.Delay(TimeSpan.FromMilliseconds(250)); // Akka's lease users retry on a timer too (lease-retry-interval).
        }

        var takenAt = Stopwatch.GetTimestamp();
        var after = Stopwatch.GetElapsedTime(frozen, takenAt);
        output.WriteLine($"taken over after {after.TotalMilliseconds:F0} ms and {attempts} Acquire() calls (heartbeat-timeout 2000 ms)");
        Assert.True(after >= TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(400), $"taken over after only {after}");
        Assert.True(await lostAt.Task.WaitAsync(TimeSpan.FromSeconds(5)) < takenAt, "the old holder must learn of the loss before the lease is taken over");
        Assert.True(b.CheckLease());
    }

    [Fact]
    public async Task A_configuration_error_fails_acquire_with_a_lease_exception_instead_of_looking_like_contention()
    {
        var name = NewLeaseName();
        var (lease, table) = LeaseOn("lease-misconfigured", name);
        table.Failure = new LockTableNotFoundException("dynamolock", "DynamoDB table 'dynamolock' does not exist.");

        var error = await Assert.ThrowsAsync<LeaseException>(() => lease.Acquire());
        await Assert.ThrowsAsync<LeaseException>(() => lease.Acquire());

        Assert.IsType<LockTableNotFoundException>(error.InnerException);
        Assert.Contains("'dynamolock' does not exist", error.Message, StringComparison.Ordinal);
        Assert.False(lease.CheckLease());

        table.Failure = null;
        Assert.True(await lease.Acquire());
        Assert.True(await lease.Release());
    }

    [Fact]
    public void The_hosting_option_renders_the_lease_configuration()
    {
        var option = new DynamoDbLeaseOption
        {
            HeartbeatTimeout = TimeSpan.FromSeconds(30),
            HeartbeatInterval = TimeSpan.FromSeconds(5),
            TableName = "leases",
            Store = LockStore.InMemory,
        };

        var config = ConfigurationFactory.ParseString(option.ToHocon()).WithFallback(DynamoLockConfig.Default).GetConfig(DynamoDbLease.ConfigPath);

        Assert.Equal(DynamoDbLease.ConfigPath, option.ConfigPath);
        Assert.Equal(typeof(DynamoDbLease), Type.GetType(config.GetString("lease-class")));
        Assert.Equal(TimeSpan.FromSeconds(30), config.GetTimeSpan("heartbeat-timeout"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("heartbeat-interval"));
        Assert.Equal("leases", config.GetString("table.name"));
        Assert.Equal("in-memory", config.GetString("table.store"));
    }
}

public sealed class InMemoryDynamoDbLeaseScenarios(ITestOutputHelper output) : DynamoDbLeaseScenarios(output)
{
    private static readonly InMemoryLockTable Table = new();

    protected override ILockTable SharedTable => Table;
}

/// <summary>The same scenarios with the leases held under their node's session.</summary>
public sealed class InMemorySessionLeaseScenarios(ITestOutputHelper output) : DynamoDbLeaseScenarios(output)
{
    private static readonly InMemoryLockTable Table = new();

    protected override ILockTable SharedTable => Table;

    protected override bool UseSession => true;
}

/// <summary>The same scenarios under sessions on the real local server.</summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbSessionLeaseScenarios(DynamoDbTableFixture fixture, ITestOutputHelper output) : DynamoDbLeaseScenarios(output), IClassFixture<DynamoDbTableFixture>
{
    protected override ILockTable SharedTable => fixture.Table;

    protected override bool UseSession => true;
}

[Trait("Category", "DynamoDB")]
public sealed class DynamoDbDynamoDbLeaseScenarios(DynamoDbTableFixture fixture, ITestOutputHelper output) : DynamoDbLeaseScenarios(output), IClassFixture<DynamoDbTableFixture>
{
    protected override ILockTable SharedTable => fixture.Table;
}
