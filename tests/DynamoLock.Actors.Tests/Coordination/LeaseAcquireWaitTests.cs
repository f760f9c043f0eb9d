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
/// The lease's <c>acquire-wait</c> (issue 16): <c>Acquire()</c> on a lease held by another node waits, registered as a
/// waiter, and the holder's release notice over Akka.Remote grants it at once; it answers false when the wait runs out.
/// Two actor systems on loopback share one in-memory table.
/// </summary>
public sealed class LeaseAcquireWaitTests(ITestOutputHelper output) : IDisposable
{
    private const string Remoting = """
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        """;

    // Polls 60 s apart (with remoting the waiter polls at the larger of refresh-interval and the 6 s notice refresh): a
    // grant within seconds can only come from the release's notice.
    private const string LongWait = """
        akka.loglevel = INFO
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        akka.coordination.lease.dynamodb {
          heartbeat-timeout = 20s
          heartbeat-interval = 4s
          lease-operation-timeout = 30s
          refresh-interval = 60s
          acquire-wait = 20s
        }
        """;

    private readonly InMemoryLockTable _table = new();
    private readonly List<LeaseNodes> _nodes = [];

    public void Dispose()
    {
        foreach (var nodes in _nodes)
        {
            nodes.Dispose();
        }
    }

    private (Lease Lease, ControllableLockTable Table) LeaseOn(string node, string leaseName, string hocon)
    {
        var nodes = new LeaseNodes(_table, hocon);
        _nodes.Add(nodes);
        var (system, table) = nodes.Start(node);
        var lease = LeaseProvider.Get(system).GetLease(leaseName, DynamoDbLease.ConfigPath, $"{node}@127.0.0.1:2552");
        return (lease, table);
    }

    private static string NewLeaseName() => $"sys-singleton-akka://sys/user/singleton-{Guid.NewGuid():N}";

    private async Task AwaitWaitersAsync(string leaseName, int count)
    {
        var started = Stopwatch.GetTimestamp();
        while ((await _table.ReadAsync(new LockKey(leaseName)))?.Waiters.Count != count)
        {
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(20), $"the lease's record never listed {count} waiter(s)");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_release_on_the_holding_node_grants_a_waiting_acquire_on_another_node_at_once()
    {
        var name = NewLeaseName();
        var (a, _) = LeaseOn("wait-holder", name, Remoting + LongWait);
        var (b, tableB) = LeaseOn("wait-next", name, Remoting + LongWait);
        Assert.True(await a.Acquire());

        var asked = Stopwatch.GetTimestamp();
        var acquiring = b.Acquire();
        await AwaitWaitersAsync(name, 1);
        Assert.False(acquiring.IsCompleted, "Acquire() answered before the lease was released");

        var released = Stopwatch.GetTimestamp();
        Assert.True(await a.Release());
        Assert.True(await acquiring.WaitAsync(TimeSpan.FromSeconds(5)), "the waiting Acquire() was not granted after the release");

        var after = Stopwatch.GetElapsedTime(released);
        output.WriteLine($"granted {after.TotalMilliseconds:F0} ms after the release began ({Stopwatch.GetElapsedTime(asked).TotalMilliseconds:F0} ms after Acquire() was called); node 2: {tableB["TryAcquire"]} acquire writes, {tableB["AddWaiter"]} registrations, {tableB["Read"]} reads");
        Assert.True(b.CheckLease());
        Assert.False(a.CheckLease());
        Assert.Equal(0, tableB["Read"]);
    }

    [Fact]
    public async Task Acquire_on_a_lease_held_and_never_released_answers_false_after_the_acquire_wait()
    {
        const string shortWait = """
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.coordination.lease.dynamodb {
              lease-operation-timeout = 5s
              refresh-interval = 100ms
              acquire-wait = 300ms
            }
            """;
        var name = NewLeaseName();
        var (a, _) = LeaseOn("short-holder", name, Remoting + shortWait);
        var (b, _) = LeaseOn("short-next", name, Remoting + shortWait);
        Assert.True(await a.Acquire());

        var asked = Stopwatch.GetTimestamp();
        Assert.False(await b.Acquire());
        var took = Stopwatch.GetElapsedTime(asked);

        output.WriteLine($"refused after {took.TotalMilliseconds:F0} ms (acquire-wait 300 ms)");
        Assert.True(took >= TimeSpan.FromMilliseconds(250), $"refused after {took}, before the acquire-wait ran out");
        Assert.True(took < TimeSpan.FromSeconds(4), $"refused only after {took}");
        Assert.False(b.CheckLease());
        Assert.True(a.CheckLease());
    }

    [Fact]
    public async Task With_an_acquire_wait_of_zero_a_lease_held_elsewhere_is_refused_after_one_attempt()
    {
        const string tryOnce = """
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.coordination.lease.dynamodb {
              lease-operation-timeout = 30s
              acquire-wait = 0s
            }
            """;
        var name = NewLeaseName();
        var (a, _) = LeaseOn("once-holder", name, tryOnce);
        var (b, tableB) = LeaseOn("once-next", name, tryOnce);
        Assert.True(await a.Acquire());

        var asked = Stopwatch.GetTimestamp();
        Assert.False(await b.Acquire());
        var took = Stopwatch.GetElapsedTime(asked);

        output.WriteLine($"refused after {took.TotalMilliseconds:F0} ms");
        Assert.Equal(1, tableB["TryAcquire"]);
        Assert.True(took < TimeSpan.FromSeconds(2), $"refused only after {took}: it waited");
    }

    [Fact]
    public async Task Release_during_a_waiting_acquire_ends_the_wait_with_false()
    {
        var name = NewLeaseName();
        var (a, _) = LeaseOn("cancel-holder", name, Remoting + LongWait);
        var (b, _) = LeaseOn("cancel-next", name, Remoting + LongWait);
        Assert.True(await a.Acquire());
        var acquiring = b.Acquire();
        await AwaitWaitersAsync(name, 1);

        var releasing = Stopwatch.GetTimestamp();
        Assert.False(await b.Release(), "nothing was held to release");
        Assert.False(await acquiring.WaitAsync(TimeSpan.FromSeconds(5)));

        output.WriteLine($"Release() answered and the wait ended {Stopwatch.GetElapsedTime(releasing).TotalMilliseconds:F0} ms after Release() was called (acquire-wait 20 s)");
        Assert.False(b.CheckLease());
        Assert.True(a.CheckLease());
    }

    [Theory]
    [InlineData("5s", "5s")]
    [InlineData("6s", "5s")]
    [InlineData("-1s", "5s")]
    [InlineData("-1000ms", "5s")] // what DynamoDbLeaseOption renders for AcquireWait = -1 s
    public void An_acquire_wait_that_is_negative_or_not_below_the_operation_timeout_is_rejected_naming_both(string wait, string timeout)
    {
        var hocon = $$"""
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            akka.coordination.lease.dynamodb {
              lease-operation-timeout = {{timeout}}
              acquire-wait = {{wait}}
            }
            """;
        var nodes = new LeaseNodes(_table, hocon);
        _nodes.Add(nodes);
        var (system, _) = nodes.Start("bad-wait");

        var error = Record.Exception(() => LeaseProvider.Get(system).GetLease(NewLeaseName(), DynamoDbLease.ConfigPath, "bad-wait@127.0.0.1:2552"));

        Assert.NotNull(error);
        var problem = error as ArgumentOutOfRangeException ?? error.InnerException as ArgumentOutOfRangeException;
        Assert.True(problem is not null, $"expected an ArgumentOutOfRangeException, got {error}");
        output.WriteLine(problem.Message);
        Assert.Equal("akka.coordination.lease.dynamodb.acquire-wait", problem.ParamName);
        Assert.Contains($"acquire-wait ({wait})", problem.Message, StringComparison.Ordinal);
        Assert.Contains("lease-operation-timeout (5s)", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "5s", 2000)]
    [InlineData(null, "3s", 1500)] // unset under a short operation timeout: half of it, never a start-up failure
    [InlineData("1500ms", "5s", 1500)]
    [InlineData("0s", "5s", 0)]
    public void The_default_acquire_wait_is_2s_or_half_a_shorter_operation_timeout_and_the_hosting_option_renders_it(string? wait, string timeout, int expectedMs)
    {
        var option = new DynamoDbLeaseOption { AcquireWait = wait is null ? null : ConfigurationFactory.ParseString($"w = {wait}").GetTimeSpan("w") };
        var config = ConfigurationFactory.ParseString(option.ToHocon()).WithFallback(DynamoLockConfig.Default).GetConfig(DynamoDbLease.ConfigPath);
        var operationTimeout = ConfigurationFactory.ParseString($"t = {timeout}").GetTimeSpan("t");
        var settings = new LeaseSettings("lease", "owner", new TimeoutSettings(TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(120), operationTimeout), config);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), DynamoDbLease.AcquireWaitOf(settings));
        Assert.Equal(wait is not null, option.ToHocon().Contains("acquire-wait", StringComparison.Ordinal));
    }
}
