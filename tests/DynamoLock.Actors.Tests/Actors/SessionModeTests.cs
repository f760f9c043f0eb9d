using Akka.Actor;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// Session mode through the lock manager on the real local server: the node heartbeats its session record, never the
/// locks it holds under it, and acquire and release stay one write each.
/// </summary>
[Trait("Category", "DynamoDB")]
public sealed class SessionModeTests : LockTestKit, IClassFixture<DynamoDbTableFixture>
{
    private const int Locks = 20;
    private readonly FaultInjector _requests = new();
    private readonly AmazonDynamoDBClient _client;
    private readonly DynamoDbLockTable _table;

    public SessionModeTests(DynamoDbTableFixture fixture, ITestOutputHelper output)
        : base(output)
    {
        _client = fixture.Server.CreateClient(_requests);
        _table = new DynamoDbLockTable(_client, fixture.Table.Options);
    }

    [Fact]
    public async Task A_node_heartbeats_its_session_and_never_the_locks_it_holds_under_it()
    {
        // Fast heartbeats but a long lease: the test counts writes, and a session lost to a stalled DynamoDB Local call
        // (the fast settings leave 1.2 s of safe time) would lose every lock under it (seen once in CI on a loaded machine).
        var manager = StartManager(_table, FastSettings("session-node") with { UseSessions = true, LeaseDuration = TimeSpan.FromSeconds(10), SafetyMargin = TimeSpan.FromSeconds(1) });
        var holder = CreateTestProbe();
        var keys = Enumerable.Range(0, Locks).Select(i => $"session-mode/{Guid.NewGuid():N}").ToList();

        // The first acquire starts the session (one write), then every acquire is one write; the session's own
        // heartbeats (one per 400 ms) go on meanwhile, however long a slow server takes.
        _requests.Reset();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var key in keys)
        {
            holder.Send(manager, new Acquire(key));
            holder.ExpectMsg<LockAcquired>();
        }

        var sessionHeartbeats = (int)(System.Diagnostics.Stopwatch.GetElapsedTime(started) / TimeSpan.FromMilliseconds(400)) + 1;
        Assert.InRange(_requests["UpdateItem"], Locks + 1, Locks + 1 + sessionHeartbeats);
        var acquired = new List<LockRecord>();
        foreach (var key in keys)
        {
            acquired.Add((await _table.ReadAsync(new LockKey(key)))!);
        }

        var sessionKey = Assert.Single(acquired.Select(r => r.SessionKey).Distinct());
        Assert.True(LockSessions.IsSessionKey(sessionKey));

        // Five heartbeat intervals (400 ms each): five writes of the session record, none of any lock record.
        _requests.Reset();
        AwaitCondition(() => _requests["UpdateItem"] >= 5, TimeSpan.FromSeconds(10));
        foreach (var record in acquired)
        {
            Assert.Equal(record.RecordVersionNumber, (await _table.ReadAsync(record.Key))?.RecordVersionNumber);
        }

        var session = await _table.ReadAsync(new LockKey(sessionKey!));
        Assert.Equal(("session-node", false), (session?.OwnerName, session?.IsReleased));

        // Release is one write per lock.
        var before = _requests["UpdateItem"];
        foreach (var key in keys)
        {
            holder.Send(manager, new Release(key));
            holder.ExpectMsg<LockReleased>();
        }

        Assert.InRange(_requests["UpdateItem"] - before, Locks, Locks + sessionHeartbeats + 2);
    }

    [Fact]
    public void StopHeartbeat_is_refused_for_a_lock_held_under_a_session_but_not_for_one_held_on_its_own()
    {
        var manager = StartManager(_table, FastSettings("session-node-2") with { UseSessions = true, LeaseDuration = TimeSpan.FromSeconds(10), SafetyMargin = TimeSpan.FromSeconds(1) });
        var holder = CreateTestProbe();
        var underSession = $"session-mode/{Guid.NewGuid():N}";
        var onItsOwn = $"session-mode/{Guid.NewGuid():N}";
        holder.Send(manager, new Acquire(underSession));
        holder.ExpectMsg<LockAcquired>();
        holder.Send(manager, new Acquire(onItsOwn, new AcquireOptions { UseSession = false }));
        holder.ExpectMsg<LockAcquired>();

        holder.Send(manager, new StopHeartbeat(underSession));
        Assert.Equal(LockRefusalKind.InvalidRequest, holder.ExpectMsg<LockNotHeld>().Kind);
        holder.Send(manager, new StopHeartbeat(onItsOwn));
        holder.ExpectMsg<LockHeartbeatStopped>();
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _client.Dispose();
    }
}

/// <summary>The lock manager's session actors on the in-memory table: one that stops is made again, on the same slot.</summary>
public sealed class SessionActorRestartTests(ITestOutputHelper output) : LockTestKit(output)
{
    [Fact]
    public async Task A_session_actor_that_stops_loses_its_locks_and_the_next_acquire_gets_a_new_session()
    {
        var table = new InMemoryLockTable();
        var manager = StartManager(table, FastSettings("restart-node") with { UseSessions = true, LeaseDuration = TimeSpan.FromSeconds(3), SafetyMargin = TimeSpan.FromSeconds(1) });
        var holder = CreateTestProbe();
        holder.Send(manager, new Acquire("restart/first"));
        var first = holder.ExpectMsg<LockAcquired>();
        var firstSession = (await table.ReadAsync(new LockKey("restart/first")))!.SessionKey;
        var waiter = CreateTestProbe();
        waiter.Send(manager, new Acquire("restart/first", AcquireOptions.Wait(TimeSpan.FromSeconds(30))));
        AwaitAssert(() => Assert.Equal(1, manager.Ask<LockStatusReport>(new GetLockStatus("restart/first")).Result.Locks.Single().Waiters));

        // The session actor stops (as it would after a failure): its locks can no longer be trusted, and the waiter,
        // already queued under the same session slot, gets the lock under the session the next actor creates, once the
        // old session's record has gone unrenewed for its lease (3 s) plus the drift allowance, as any waiter would.
        var sessionActor = await Sys.ActorSelection(manager.Path / "session-*").ResolveOne(TimeSpan.FromSeconds(3));
        Watch(sessionActor);
        sessionActor.Tell(PoisonPill.Instance);
        ExpectTerminated(sessionActor);
        Assert.Equal(first.FencingToken, holder.ExpectMsg<LockLost>().FencingToken);
        Assert.True(waiter.ExpectMsg<LockAcquired>(TimeSpan.FromSeconds(15)).FencingToken > first.FencingToken);
        var secondSession = (await table.ReadAsync(new LockKey("restart/first")))!.SessionKey;

        Assert.NotNull(secondSession);
        Assert.NotEqual(firstSession, secondSession);
    }
}
