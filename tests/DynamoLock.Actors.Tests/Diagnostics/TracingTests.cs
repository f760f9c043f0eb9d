using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Actors;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Diagnostics;

/// <summary>The spans of the <c>DynamoLock.Actors</c> activity source: acquire (with its wait), release, takeover and loss.</summary>
public sealed class TracingTests(ITestOutputHelper output) : LockTestKit(output), IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly SpanRecorder _spans = new();
    private readonly string _key = $"traced-{Guid.NewGuid():N}";

    [Fact]
    public async Task An_acquire_and_its_release_are_spans_under_the_callers_span()
    {
        var manager = StartManager(new InMemoryLockTable(), FastSettings("node-1"));
        var holder = CreateTestProbe();
        ActivityContext request;
        using (var parent = SpanRecorder.TestSource.StartActivity("handle request"))
        {
            request = parent!.Context;
            manager.Tell(new Acquire(_key), holder);
            var acquired = holder.ExpectMsg<LockAcquired>();
            manager.Tell(new Release(_key), holder);
            holder.ExpectMsg<LockReleased>();

            await AwaitAssertAsync(() => Assert.Equal(2, _spans.Of(_key).Count), Patience);
            var acquire = _spans.Single(_key, "dynamolock.acquire");
            Assert.Equal(request.SpanId, acquire.ParentSpanId);
            Assert.Equal(request.TraceId, acquire.TraceId);
            Assert.Equal("Granted", acquire.GetTagItem("dynamolock.outcome"));
            Assert.Equal(acquired.FencingToken, acquire.GetTagItem("dynamolock.fencing_token"));
            Assert.Equal("node-1", acquire.GetTagItem("dynamolock.owner"));
            Assert.Equal(ActivityStatusCode.Ok, acquire.Status);
            Assert.Null(acquire.GetTagItem("dynamolock.wait_ms"));

            var release = _spans.Single(_key, "dynamolock.release");
            Assert.Equal(request.SpanId, release.ParentSpanId);
            Assert.Equal("Released", release.GetTagItem("dynamolock.outcome"));
            Assert.Equal(acquired.FencingToken, release.GetTagItem("dynamolock.fencing_token"));
        }
    }

    [Fact]
    public async Task The_async_facade_traces_under_the_callers_span_too()
    {
        var client = new DynamoLockClient(Sys, StartManager(new InMemoryLockTable(), FastSettings("node-1")));
        using (var parent = SpanRecorder.TestSource.StartActivity("handle request"))
        {
            await using (await client.AcquireAsync(_key, TimeSpan.FromSeconds(5)))
            {
            }

            await AwaitAssertAsync(() => Assert.Equal(2, _spans.Of(_key).Count), Patience);
            Assert.All(_spans.Of(_key), span => Assert.Equal(parent!.SpanId, span.ParentSpanId));
        }
    }

    [Fact]
    public async Task A_contended_acquire_records_its_wait_and_a_refusal_its_kind()
    {
        var table = new InMemoryLockTable();
        var node1 = StartManager(table, FastSettings("node-1"));
        var node2 = StartManager(table, FastSettings("node-2"));
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        var impatient = CreateTestProbe();
        node1.Tell(new Acquire(_key), holder);
        holder.ExpectMsg<LockAcquired>();

        impatient.Send(node2, new Acquire(_key));
        Assert.Equal(LockRefusalKind.HeldElsewhere, impatient.ExpectMsg<LockNotAcquired>().Kind);
        await AwaitAssertAsync(() => Assert.Equal("HeldElsewhere", _spans.Single(_key, "dynamolock.acquire", "node-2").GetTagItem("dynamolock.outcome")), Patience);

        var waitStarted = Stopwatch.GetTimestamp();
        waiter.Send(node2, new Acquire(_key, new AcquireOptions { WaitTimeout = TimeSpan.FromMinutes(1) }));
        await AwaitAssertAsync(async () => Assert.Equal(LockState.Waiting, (await node2.Ask<LockStatusReport>(new GetLockStatus(_key))).Locks.Single().State), Patience);
        node1.Tell(new Release(_key), holder);
        waiter.ExpectMsg<LockAcquired>(Patience);
        var waited = Stopwatch.GetElapsedTime(waitStarted).TotalMilliseconds;

        await AwaitAssertAsync(() => Assert.Equal(2, _spans.Of(_key).Count(a => a.OperationName == "dynamolock.acquire" && Equals(a.GetTagItem("dynamolock.owner"), "node-2"))), Patience);
        var granted = _spans.Of(_key).Single(a => Equals(a.GetTagItem("dynamolock.owner"), "node-2") && Equals(a.GetTagItem("dynamolock.outcome"), "Granted"));
        Assert.Contains(granted.Events, e => e.Name == "dynamolock.wait");
        var waitMs = Assert.IsType<double>(granted.GetTagItem("dynamolock.wait_ms"));
        Assert.InRange(waitMs, 0, waited);
    }

    [Fact]
    public async Task A_takeover_is_a_span_under_its_acquire_and_the_loss_a_span_linked_to_the_grant()
    {
        var inner = new InMemoryLockTable();
        var crashed = new ControllableLockTable(inner);
        var node1 = StartManager(crashed, FastSettings("node-1"));
        var node2 = StartManager(inner, FastSettings("node-2"));
        var holder = CreateTestProbe();
        var waiter = CreateTestProbe();
        node1.Tell(new Acquire(_key), holder);
        holder.ExpectMsg<LockAcquired>();

        // Node 1 can no longer reach the table: it loses the lock at its safe deadline, and node 2 takes it over after the lease.
        crashed.Partitioned = true;
        waiter.Send(node2, new Acquire(_key, new AcquireOptions { WaitTimeout = TimeSpan.FromMinutes(1) }));
        var lost = holder.ExpectMsg<LockLost>(Patience);
        var taken = waiter.ExpectMsg<LockAcquired>(Patience);

        await AwaitAssertAsync(() => Assert.Single(_spans.Of(_key), a => a.OperationName == "dynamolock.takeover"), Patience);
        var takeOver = _spans.Single(_key, "dynamolock.takeover");
        var acquire2 = _spans.Single(_key, "dynamolock.acquire", "node-2");
        Assert.Equal(acquire2.SpanId, takeOver.ParentSpanId);
        Assert.Equal("Granted", takeOver.GetTagItem("dynamolock.outcome"));
        Assert.Equal(taken.FencingToken, takeOver.GetTagItem("dynamolock.fencing_token"));

        var loss = _spans.Single(_key, "dynamolock.lost");
        Assert.Equal(nameof(LockLossReason.LeaseExpired), loss.GetTagItem("dynamolock.loss_reason"));
        Assert.Equal(lost.FencingToken, loss.GetTagItem("dynamolock.fencing_token"));
        Assert.Equal(ActivityStatusCode.Error, loss.Status);
        Assert.Equal(_spans.Single(_key, "dynamolock.acquire", "node-1").SpanId, Assert.Single(loss.Links).Context.SpanId);
    }

    [Fact]
    public async Task Heartbeats_make_no_spans()
    {
        var table = new ControllableLockTable(new InMemoryLockTable());
        var manager = StartManager(table, FastSettings("node-1"));
        var holder = CreateTestProbe();
        manager.Tell(new Acquire(_key), holder);
        holder.ExpectMsg<LockAcquired>();

        await AwaitAssertAsync(() => Assert.True(table["Heartbeat"] >= 3), Patience);
        Assert.Equal(["dynamolock.acquire"], _spans.Of(_key).Select(a => a.OperationName));
    }

    void IDisposable.Dispose() => _spans.Dispose();
}

/// <summary>On a DynamoDB API server: the AWS SDK's request for a lock is sent under the lock's span, so its own spans nest there.</summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbTracingTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : LockTestKit(output), IClassFixture<DynamoDbTableFixture>, IDisposable
{
    private readonly SpanRecorder _spans = new();

    [Fact]
    public async Task The_table_requests_of_an_acquire_are_sent_within_its_span()
    {
        var key = $"traced-{Guid.NewGuid():N}";
        var requests = new ContextRecordingCounter();
        var table = new DynamoDbLockTable(fixture.Server.CreateClient(requests), fixture.Table.Options);
        var manager = StartManager(table, FastSettings("node-1"));
        var holder = CreateTestProbe();
        manager.Tell(new Acquire(key), holder);
        holder.ExpectMsg<LockAcquired>();
        manager.Tell(new Release(key), holder);
        holder.ExpectMsg<LockReleased>();

        await AwaitAssertAsync(() => Assert.Equal(2, _spans.Of(key).Count), TimeSpan.FromSeconds(20));
        var acquire = _spans.Single(key, "dynamolock.acquire");
        var release = _spans.Single(key, "dynamolock.release");
        var sent = requests.Sent.ToList();
        Assert.Contains(sent, r => r.Operation == "UpdateItem" && r.SpanId == acquire.SpanId);
        Assert.Contains(sent, r => r.SpanId == release.SpanId);
        Assert.All(sent, r => Assert.True(r.SpanId == acquire.SpanId || r.SpanId == release.SpanId || r.SpanId == default, $"{r.Operation} sent under an unrelated span"));
    }

    void IDisposable.Dispose() => _spans.Dispose();

    /// <summary>Notes the span that is current when each request is sent: the one an SDK or HTTP span would nest under.</summary>
    private sealed class ContextRecordingCounter : RequestCounter
    {
        public ConcurrentQueue<(string Operation, ActivitySpanId SpanId)> Sent { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(string operation, Func<CancellationToken, Task<HttpResponseMessage>> send, CancellationToken cancellationToken)
        {
            Sent.Enqueue((operation, Activity.Current?.SpanId ?? default));
            return base.SendAsync(operation, send, cancellationToken);
        }
    }
}
