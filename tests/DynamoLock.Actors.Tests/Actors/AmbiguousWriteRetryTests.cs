using Akka.Actor;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// A write that was applied but whose answer never arrived, and whose settling read failed too: the lock actor retries
/// the very same write (same record version number), so the retry recognises its own earlier attempt. Before, every
/// retry minted a new version number, the table showed the first attempt's, and the actor took its own record for
/// someone else's: a holder told TakenOver, a record held by nobody alive for a whole lease.
/// </summary>
[Trait("Category", "DynamoDB")]
public sealed class AmbiguousWriteRetryTests : LockTestKit, IClassFixture<DynamoDbTableFixture>
{
    private readonly FaultInjector _faults = new();
    private readonly AmazonDynamoDBClient _client;
    private readonly DynamoDbLockTable _table;
    private readonly IActorRef _manager;

    public AmbiguousWriteRetryTests(DynamoDbTableFixture fixture, ITestOutputHelper output)
        : base(output)
    {
        _client = fixture.Server.CreateClient(_faults, maxErrorRetry: 0);
        _table = new DynamoDbLockTable(_client, fixture.Table.Options);
        // Fast heartbeats but a long lease: the heartbeat's retry must keep the lock even when a loaded machine delays
        // it by a second (with the fast settings' 1.2 s of safe time, a stalled thread pool once cost the lock in CI).
        _manager = StartManager(_table, FastSettings("ambiguous-node") with { LeaseDuration = TimeSpan.FromSeconds(10), SafetyMargin = TimeSpan.FromSeconds(1) });
    }

    private static string NewKey() => $"ambiguous-actor/{Guid.NewGuid():N}";

    [Fact]
    public async Task A_heartbeat_applied_but_unanswered_and_unsettled_is_retried_as_the_same_write_and_the_lock_stays_held()
    {
        var key = NewKey();
        var holder = CreateTestProbe();
        holder.Send(_manager, new Acquire(key));
        var granted = holder.ExpectMsg<LockAcquired>();

        // The next heartbeat is applied, its answer lost, and the read that would settle it fails.
        _faults.Arm("UpdateItem", HttpFault.LoseResponse);
        _faults.Arm("GetItem", HttpFault.ServerError);
        AwaitCondition(() => _faults["UpdateItem"] >= 3, TimeSpan.FromSeconds(10));

        holder.ExpectNoMsg(TimeSpan.FromSeconds(1));
        var record = await _table.ReadAsync(new LockKey(key));
        Assert.Equal(("ambiguous-node", granted.FencingToken, false), (record!.OwnerName, record.FencingToken, record.IsReleased));
        holder.Send(_manager, new Release(key));
        holder.ExpectMsg<LockReleased>();
    }

    [Fact]
    public async Task An_acquire_applied_but_unanswered_and_unsettled_is_settled_and_given_back_when_its_requester_gave_up()
    {
        var key = NewKey();
        _faults.Arm("UpdateItem", HttpFault.LoseResponse);
        _faults.Arm("GetItem", HttpFault.ServerError);
        var requester = CreateTestProbe();

        requester.Send(_manager, new Acquire(key));

        // The try-once requester hears the table failed; the write it sent may hold the record, so the actor settles it.
        Assert.Equal(LockRefusalKind.TableUnavailable, requester.ExpectMsg<LockNotAcquired>().Kind);
        await AwaitAssertAsync(async () => Assert.True((await _table.ReadAsync(new LockKey(key)))?.IsReleased), TimeSpan.FromSeconds(10));
        Assert.Equal(1, (await _table.ReadAsync(new LockKey(key)))!.FencingToken);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _client.Dispose();
    }
}
