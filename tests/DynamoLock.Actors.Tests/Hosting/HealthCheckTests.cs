using Akka.Actor;
using Akka.Hosting;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Actors;
using DynamoLock.Actors.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Hosting;

/// <summary>The health check reads what the lock manager has seen: healthy, degraded while heartbeats fail, unhealthy after an unreleased loss or a table that cannot be used.</summary>
public sealed class HealthCheckTests(ITestOutputHelper output) : LockTestKit(output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Healthy_with_a_held_lock_and_counts_held_and_waiting_locks()
    {
        var table = new InMemoryLockTable();
        var node1 = StartManager(table, FastSettings("node-1"));
        var node2 = StartManager(table, FastSettings("node-2"));
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        node1.Tell(new Acquire("orders"), holder);
        holder.ExpectMsg<LockAcquired>();
        node2.Tell(new Acquire("orders", new AcquireOptions { WaitTimeout = TimeSpan.FromMinutes(1) }), waiter);

        var held = await CheckAsync(node1);
        Assert.Equal(HealthStatus.Healthy, held.Status);
        Assert.Equal(1, held.Data["held_locks"]);
        Assert.Equal(0, held.Data["waiting_locks"]);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await CheckAsync(node2)).Data["waiting_locks"]), Patience);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(node2)).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Degraded_while_heartbeats_fail_within_the_safety_margin_and_healthy_again_once_they_succeed(bool sessions)
    {
        var table = new ControllableLockTable(new InMemoryLockTable());

        // A long lease, so that the window between a first failed heartbeat and the loss is seconds wide.
        var manager = StartManager(table, FastSettings("node-1") with
        {
            LeaseDuration = TimeSpan.FromSeconds(12),
            HeartbeatInterval = TimeSpan.FromMilliseconds(500),
            SafetyMargin = TimeSpan.FromSeconds(2),
            UseSessions = sessions,
        });
        var holder = CreateTestProbe();
        manager.Tell(new Acquire("ledger"), holder);
        holder.ExpectMsg<LockAcquired>();

        table.FailHeartbeats = true;
        await AwaitAssertAsync(
            async () =>
            {
                var degraded = await CheckAsync(manager);
                Assert.True(degraded.Status == HealthStatus.Degraded, degraded.Description);
                // In session mode the node's one session heartbeats for the lock.
                Assert.Equal([sessions ? "session (lease 12s)" : "ledger"], (string[])degraded.Data["failing_heartbeats"]);
                Assert.Equal(nameof(LockRefusalKind.TableUnavailable), degraded.Data["last_table_error_kind"]);
            },
            Patience);

        table.FailHeartbeats = false;
        await AwaitAssertAsync(async () => Assert.Equal(HealthStatus.Healthy, (await CheckAsync(manager)).Status), Patience);
        holder.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Unhealthy_after_a_loss_until_the_application_releases_the_lock()
    {
        var table = new ControllableLockTable(new InMemoryLockTable());
        var manager = StartManager(table, FastSettings("node-1"));
        var holder = CreateTestProbe();
        manager.Tell(new Acquire("ledger"), holder);
        var acquired = holder.ExpectMsg<LockAcquired>();

        table.FailHeartbeats = true;
        var lost = holder.ExpectMsg<LockLost>(Patience);
        var unhealthy = await CheckAsync(manager);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Equal(["ledger"], (string[])unhealthy.Data["unreleased_losses"]);
        Assert.Contains("ledger", unhealthy.Description, StringComparison.Ordinal);
        Assert.Equal(acquired.FencingToken, lost.FencingToken);

        table.FailHeartbeats = false;
        manager.Tell(new Release("ledger"), holder);
        holder.ExpectMsg<LockNotHeld>();
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(manager)).Status);
    }

    [Fact]
    public async Task A_lost_handle_of_the_async_facade_is_unhealthy_until_disposed()
    {
        var table = new ControllableLockTable(new InMemoryLockTable());
        var manager = StartManager(table, FastSettings("node-1"));
        var handle = await new DynamoLockClient(Sys, manager).AcquireAsync("ledger", TimeSpan.FromSeconds(5));
        table.FailHeartbeats = true;
        var lost = new TaskCompletionSource();
        await using (handle.LostToken.Register(lost.SetResult))
        {
            await lost.Task.WaitAsync(Patience);
        }

        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(manager)).Status);
        Assert.False(await handle.ReleaseAsync());
        await handle.DisposeAsync();
        await AwaitAssertAsync(async () => Assert.Equal(HealthStatus.Healthy, (await CheckAsync(manager)).Status), Patience);
    }

    [Fact]
    public async Task A_loss_ends_when_its_holder_stops()
    {
        var table = new ControllableLockTable(new InMemoryLockTable());
        var manager = StartManager(table, FastSettings("node-1"));
        var holder = CreateTestProbe();
        manager.Tell(new Acquire("ledger"), holder);
        holder.ExpectMsg<LockAcquired>();
        table.FailHeartbeats = true;
        holder.ExpectMsg<LockLost>(Patience);
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(manager)).Status);

        Sys.Stop(holder.Ref);
        table.FailHeartbeats = false;
        await AwaitAssertAsync(async () => Assert.Equal(HealthStatus.Healthy, (await CheckAsync(manager)).Status), Patience);
    }

    public static TheoryData<string> TableProblems => [nameof(LockRefusalKind.TableMissing), nameof(LockRefusalKind.Misconfigured), nameof(LockRefusalKind.TableUnavailable)];

    [Theory]
    [MemberData(nameof(TableProblems))]
    public async Task A_table_that_cannot_be_used_is_unhealthy_and_a_transient_failure_degraded(string kind)
    {
        var table = new ControllableLockTable(new InMemoryLockTable());
        var manager = StartManager(table, FastSettings("node-1"));
        table.Failure = Enum.Parse<LockRefusalKind>(kind) switch
        {
            LockRefusalKind.TableMissing => new LockTableNotFoundException(table.TableName, "Injected: the table does not exist."),
            LockRefusalKind.Misconfigured => new LockTableConfigurationException("Injected: access denied for dynamodb:UpdateItem."),
            _ => new LockTableUnavailableException("Injected: throttled."),
        };
        var requester = CreateTestProbe();
        manager.Tell(new Acquire("ledger", new AcquireOptions { WaitTimeout = TimeSpan.FromMinutes(1) }), requester);
        if (kind == nameof(LockRefusalKind.TableUnavailable))
        {
            // Retried for as long as the acquire may wait: degraded meanwhile.
            await AwaitAssertAsync(
                async () =>
                {
                    var degraded = await CheckAsync(manager);
                    Assert.Equal(HealthStatus.Degraded, degraded.Status);
                    Assert.Equal(kind, degraded.Data["last_table_error_kind"]);
                },
                Patience);
        }
        else
        {
            // Refused at once: retrying would not help, and the node cannot take locks.
            Assert.Equal(kind, requester.ExpectMsg<LockNotAcquired>(Patience).Kind.ToString());
            var result = await CheckAsync(manager);
            Assert.Equal(HealthStatus.Unhealthy, result.Status);
            Assert.Equal(kind, result.Data["last_table_error_kind"]);
            Assert.StartsWith("Injected", (string)result.Data["last_table_error"], StringComparison.Ordinal);
        }

        // The table answers again: healthy.
        table.Failure = null;
        if (kind != nameof(LockRefusalKind.TableUnavailable))
        {
            manager.Tell(new Acquire("ledger"), requester);
        }

        requester.ExpectMsg<LockAcquired>(Patience);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(manager)).Status);
    }

    [Fact]
    public async Task A_stopped_lock_manager_fails_the_check()
    {
        var manager = StartManager(new InMemoryLockTable(), FastSettings("node-1"));
        Watch(manager);
        Sys.Stop(manager);
        ExpectTerminated(manager);

        var result = await new DynamoLockHealthCheck(manager, TimeSpan.FromMilliseconds(300)).CheckHealthAsync(Context(HealthStatus.Degraded));
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains("did not answer", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddDynamoLock_registers_the_check_of_the_hosted_lock_manager()
    {
        using var host = new HostBuilder()
            .ConfigureServices(s =>
            {
                s.AddHealthChecks().AddDynamoLock(tags: ["ready"]);
                s.AddAkka($"health-{Guid.NewGuid():N}", builder => builder
                    .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                    .WithDynamoLock(o => o.Store = LockStore.InMemory));
            })
            .Build();
        await host.StartAsync();
        var client = new DynamoLockClient(host.Services.GetRequiredService<ActorSystem>(), await host.Services.GetRequiredService<IRequiredActor<LockManager>>().GetAsync());
        await using var handle = await client.AcquireAsync("hosted", TimeSpan.FromSeconds(5));

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"));

        var entry = report.Entries["dynamolock"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(1, entry.Data["held_locks"]);
        await host.StopAsync();
    }

    [Fact]
    public async Task Without_a_registered_lock_manager_the_check_fails_in_bounded_time()
    {
        using var host = new HostBuilder()
            .ConfigureServices(s =>
            {
                s.AddHealthChecks().AddDynamoLock(timeout: TimeSpan.FromMilliseconds(500));
                s.AddAkka($"health-{Guid.NewGuid():N}", builder => builder.AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend));
            })
            .Build();
        await host.StartAsync();

        var entry = (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["dynamolock"];

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("WithDynamoLock", entry.Description, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task When_the_callers_timeout_ends_the_wait_for_the_manager_first_the_check_still_says_what_is_missing()
    {
        // The health check service's own timeout can fire before the check's shorter one on a loaded machine.
        var check = new DynamoLockHealthCheck(NeverRegistered, TimeSpan.FromHours(1));
        using var callerTimeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        var result = await check.CheckHealthAsync(Context(), callerTimeout.Token);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("WithDynamoLock", result.Description, StringComparison.Ordinal);
    }

    private static async Task<IActorRef> NeverRegistered(CancellationToken token)
    {
        await Task.Delay(Timeout.Infinite, token);
        throw new InvalidOperationException("unreachable");
    }

    private static HealthCheckContext Context(HealthStatus failure = HealthStatus.Unhealthy) => new()
    {
        Registration = new HealthCheckRegistration("dynamolock", _ => throw new InvalidOperationException("not used"), failure, tags: null),
    };

    private static Task<HealthCheckResult> CheckAsync(IActorRef manager) => new DynamoLockHealthCheck(manager).CheckHealthAsync(Context());
}

/// <summary>On a DynamoDB API server: a lock table that does not exist makes the node unhealthy, with the kind in the data.</summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbHealthCheckTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : LockTestKit(output), IClassFixture<DynamoDbTableFixture>
{
    [Fact]
    public async Task A_missing_table_is_unhealthy()
    {
        var table = new DynamoDbLockTable(fixture.Client, new DynamoDbLockTableOptions { TableName = DynamoDbTableFixture.UniqueTableName("missing") });
        var manager = StartManager(table, FastSettings("node-1"));
        var requester = CreateTestProbe();
        manager.Tell(new Acquire("ledger"), requester);
        Assert.Equal(LockRefusalKind.TableMissing, requester.ExpectMsg<LockNotAcquired>(TimeSpan.FromSeconds(20)).Kind);

        var result = await new DynamoLockHealthCheck(manager).CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("dynamolock", _ => throw new InvalidOperationException("not used"), null, null),
        });
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal(nameof(LockRefusalKind.TableMissing), result.Data["last_table_error_kind"]);
    }
}
