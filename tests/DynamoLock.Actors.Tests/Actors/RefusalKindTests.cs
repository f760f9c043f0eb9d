using Akka.Actor;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// Every refusal kind the code can produce: how it is produced, the kind the actor API answers, and the outcome the async
/// facade maps it to (null for contention, an exception of one type for everything else).
/// </summary>
public sealed class RefusalKindTests : LockTestKit
{
    private readonly InMemoryLockTable _memory = new();
    private readonly ControllableLockTable _table;
    private readonly IActorRef _manager;
    private readonly DynamoLockClient _client;
    private readonly DynamoLockClient _otherNode;

    public RefusalKindTests(ITestOutputHelper output)
        : base(output)
    {
        _table = new ControllableLockTable(_memory);
        _manager = StartManager(_table, FastSettings("refusal-node"));
        _client = new DynamoLockClient(Sys, _manager);
        var node = StartNode("other-refusal-node");
        _otherNode = new DynamoLockClient(node, node.ActorOf(LockManager.Props(_memory, FastSettings("other-refusal-node"))));
    }

    private static string NewKey() => $"refusal/{Guid.NewGuid():N}";

    [Fact]
    public async Task Held_elsewhere_is_contention()
    {
        var key = NewKey();
        await using var held = await _otherNode.AcquireAsync(key, TimeSpan.FromSeconds(5));

        var refused = Ask(new Acquire(key));
        Assert.Equal(LockRefusalKind.HeldElsewhere, refused.Kind);
        Assert.Equal("other-refusal-node", refused.CurrentOwner);

        Assert.Null(await _client.TryAcquireAsync(key));
        var error = await Assert.ThrowsAsync<LockNotAcquiredException>(() => _client.AcquireAsync(key, TimeSpan.Zero));
        Assert.Equal(LockRefusalKind.HeldElsewhere, error.Kind);
        Assert.IsAssignableFrom<TimeoutException>(error);
    }

    [Fact]
    public async Task A_wait_that_runs_out_is_contention()
    {
        var key = NewKey();
        await using var held = await _otherNode.AcquireAsync(key, TimeSpan.FromSeconds(5));

        var refused = Ask(new Acquire(key, AcquireOptions.Wait(TimeSpan.FromMilliseconds(200))));
        Assert.Equal(LockRefusalKind.WaitTimedOut, refused.Kind);
        Assert.Equal("Waited 200ms; the lock is held by 'other-refusal-node'.", refused.Reason);

        Assert.Null(await _client.TryAcquireAsync(key, TimeSpan.FromMilliseconds(200)));
        var error = await Assert.ThrowsAsync<LockNotAcquiredException>(() => _client.AcquireAsync(key, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(LockRefusalKind.WaitTimedOut, error.Kind);
    }

    [Fact]
    public async Task Invalid_input_is_an_argument_error_whose_text_has_no_dotnet_internals()
    {
        var refused = Ask(new Acquire("k", new AcquireOptions { LeaseDuration = TimeSpan.FromDays(30) }));
        Assert.Equal(LockRefusalKind.InvalidRequest, refused.Kind);
        Assert.DoesNotContain("(Parameter", refused.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("Actual value", refused.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("00:00", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(LockRefusalKind.InvalidRequest, Ask(new Acquire(string.Empty)).Kind);
        Assert.Equal(LockRefusalKind.InvalidRequest, Ask(new Acquire(LockSessions.KeyPrefix + "node/1")).Kind);

        var empty = await Assert.ThrowsAsync<ArgumentException>(() => _client.TryAcquireAsync(string.Empty));
        var lease = await Assert.ThrowsAsync<ArgumentException>(() => _client.AcquireAsync("k", options: new AcquireOptions { LeaseDuration = TimeSpan.FromDays(30) }));
        Assert.Contains("must not be empty", empty.Message, StringComparison.Ordinal);
        Assert.Contains("at most 7d", lease.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_wait_given_twice_with_different_values_is_an_argument_error()
    {
        var options = AcquireOptions.Wait(TimeSpan.FromSeconds(2));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.AcquireAsync(NewKey(), TimeSpan.FromSeconds(5), options));

        Assert.Equal("The wait is given twice: timeout 5s and AcquireOptions.WaitTimeout 2s. Give it in one place.", HumanText.Problem(error));
        await using var handle = await _client.AcquireAsync(NewKey(), options: options);
        Assert.Equal(1, handle.FencingToken);
    }

    [Fact]
    public void A_release_of_a_lock_not_held_is_not_held()
    {
        var probe = CreateTestProbe();
        probe.Send(_manager, new Release(NewKey()));
        Assert.Equal(LockRefusalKind.NotHeld, probe.ExpectMsg<LockNotHeld>().Kind);
    }

    [Fact]
    public async Task A_release_from_a_waiter_cancels_its_wait_and_a_cancelled_token_throws()
    {
        var key = NewKey();
        await using var held = await _otherNode.AcquireAsync(key, TimeSpan.FromSeconds(5));
        var waiter = CreateTestProbe();
        waiter.Send(_manager, new Acquire(key, AcquireOptions.Wait(Timeout.InfiniteTimeSpan)));
        AwaitAssert(() => Assert.Equal(1, _client.GetStatusAsync(key).Result.Locks.Single().Waiters));

        waiter.Send(_manager, new Release(key));

        Assert.Equal(LockRefusalKind.Cancelled, waiter.ExpectMsg<LockNotHeld>().Kind);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.AcquireAsync(key, cancellationToken: cancel.Token));
    }

    [Fact]
    public async Task A_loss_while_a_release_is_pending_answers_lost_and_the_handle_keeps_the_real_reason()
    {
        var key = NewKey();
        var handle = await _client.AcquireAsync(key, TimeSpan.FromSeconds(5));
        _table.Freeze();
        var store = handle.StoreDataAsync([1]);
        AwaitAssert(() => Assert.Equal(1, _table["Heartbeat"]));

        // The data write hangs and the release waits behind it until the safe deadline passes: the lock is lost.
        var release = handle.ReleaseAsync();

        Assert.False(await store.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(await release.WaitAsync(TimeSpan.FromSeconds(10)));
        AwaitAssert(() => Assert.True(handle.IsLost));
        Assert.Equal(LockLossReason.LeaseExpired, handle.LossReason);
        _table.Thaw();
    }

    [Fact]
    public async Task A_shutting_down_manager_refuses_and_the_facade_throws_invalid_operation()
    {
        var probe = CreateTestProbe();
        probe.Send(_manager, ReleaseAllLocks.Instance);
        probe.ExpectMsg<Akka.Done>();

        Assert.Equal(LockRefusalKind.ShuttingDown, Ask(new Acquire(NewKey())).Kind);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.TryAcquireAsync(NewKey()));
    }

    public static TheoryData<string, LockRefusalKind, Type> TableFailures => new()
    {
        { "missing", LockRefusalKind.TableMissing, typeof(LockTableNotFoundException) },
        { "misconfigured", LockRefusalKind.Misconfigured, typeof(LockTableConfigurationException) },
        { "failed", LockRefusalKind.TableError, typeof(LockTableException) },
        { "unavailable", LockRefusalKind.TableUnavailable, typeof(LockTableUnavailableException) },
    };

    [Theory]
    [MemberData(nameof(TableFailures))]
    public async Task A_table_failure_is_its_own_kind_and_a_table_exception_not_contention(string failure, LockRefusalKind kind, Type exception)
    {
        _table.Failure = failure switch
        {
            "missing" => new LockTableNotFoundException("locks", "DynamoDB table 'locks' does not exist."),
            "misconfigured" => new LockTableConfigurationException("No AWS credentials."),
            "failed" => new LockTableException("Rejected."),
            _ => new LockTableUnavailableException("Throttled."),
        };

        var refused = Ask(new Acquire(NewKey()));
        Assert.Equal(kind, refused.Kind);
        Assert.Same(_table.Failure, refused.Cause);

        var tried = await Record.ExceptionAsync(() => _client.TryAcquireAsync(NewKey()));
        var acquired = await Record.ExceptionAsync(() => _client.AcquireAsync(NewKey(), TimeSpan.FromMilliseconds(300)));
        Assert.IsType(exception, tried);
        Assert.IsType(exception, acquired);
    }

    [Fact]
    public async Task A_release_that_fails_for_good_is_reported_not_claimed()
    {
        var key = NewKey();
        var handle = await _client.AcquireAsync(key, TimeSpan.FromSeconds(5));
        _table.Failure = new LockTableException("Rejected.");

        var error = await Assert.ThrowsAsync<LockTableException>(() => handle.ReleaseAsync());

        Assert.Contains("could not release the lock: Rejected.; it expires 2s after its last heartbeat.", error.Message, StringComparison.Ordinal);
        await handle.DisposeAsync();
    }

    /// <summary>Against the real local DynamoDB: credentials that cannot be resolved fail at once as Misconfigured, never retried as transient.</summary>
    [Fact]
    [Trait("Category", "DynamoDB")]
    public async Task Unresolvable_credentials_are_misconfigured_at_once()
    {
        var server = await LocalDynamoDb.GetAsync();
        using var client = new AmazonDynamoDBClient(new UnresolvableCredentials(), new AmazonDynamoDBConfig { ServiceURL = server.Endpoint, AuthenticationRegion = "us-east-1" });
        var manager = StartManager(new DynamoDbLockTable(client, new DynamoDbLockTableOptions { TableName = "any" }), FastSettings("no-credentials"));

        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LockTableConfigurationException>(() => new DynamoLockClient(Sys, manager).AcquireAsync(NewKey(), TimeSpan.FromSeconds(20)));

        Assert.Contains("AWS_ENDPOINT_URL_DYNAMODB", error.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(15), $"took {started.Elapsed}: retried as if transient");
    }

    private LockNotAcquired Ask(Acquire acquire)
    {
        var probe = CreateTestProbe();
        probe.Send(_manager, acquire);
        return probe.ExpectMsg<LockNotAcquired>(TimeSpan.FromSeconds(10));
    }

    /// <summary>What the SDK's default chain does when it finds nothing: AmazonClientException, nothing underneath.</summary>
    private sealed class UnresolvableCredentials : AWSCredentials
    {
        public override ImmutableCredentials GetCredentials() => throw new AmazonClientException("Failed to resolve AWS credentials.");

        public override Task<ImmutableCredentials> GetCredentialsAsync() => throw new AmazonClientException("Failed to resolve AWS credentials.");
    }
}
