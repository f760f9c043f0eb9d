using System.Text;
using DynamoLock.Actors.Table;
using Xunit;

namespace DynamoLock.Actors.Tests.Table;

/// <summary>
/// The lock table protocol, pinned once and run against every adapter: what one adapter does, the other must do too.
/// </summary>
public abstract class LockTableContract
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);

    /// <summary>A table with the default schema (no sort key), shared by the class's tests; tests use their own keys.</summary>
    protected abstract ILockTable Table { get; }

    /// <summary>A table whose records have a sort key.</summary>
    protected abstract Task<ILockTable> CreateSortKeyTableAsync();

    protected static LockKey NewKey(string prefix = "lock") => new($"{prefix}/{Guid.NewGuid():N}");

    private static AcquireLockRequest Request(LockKey key, string owner = "owner-a", TimeSpan? lease = null, byte[]? data = null) =>
        new(key, owner, lease ?? Lease) { Data = data };

    private async Task<LockRecord> GrantAsync(LockKey key, string owner = "owner-a", byte[]? data = null)
    {
        var result = await Table.TryAcquireAsync(Request(key, owner, data: data));
        return Assert.IsType<AcquireResult.Granted>(result).Record;
    }

    [Fact]
    public async Task A_new_key_is_granted_with_fencing_token_1_and_the_requested_lease()
    {
        var key = NewKey();

        var record = await GrantAsync(key);

        Assert.Equal(key, record.Key);
        Assert.Equal("owner-a", record.OwnerName);
        Assert.Equal(1, record.FencingToken);
        Assert.Equal(Lease, record.LeaseDuration);
        Assert.False(record.IsReleased);
        Assert.True(record.Data.IsEmpty);
        Assert.NotNull(record.HeartbeatAt);
        Assert.Equal(record, await Table.ReadAsync(key));
    }

    [Fact]
    public async Task A_retried_write_whose_first_attempt_was_applied_is_recognised_as_ours()
    {
        // The caller mints the version once per logical write and resends the same request when it did not hear back:
        // each retry below finds its own earlier attempt applied and succeeds, without a second fencing token.
        var key = NewKey();
        var acquire = Request(key) with { NewRecordVersionNumber = "acquire-1" };
        var granted = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(acquire)).Record;
        var again = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(acquire)).Record;
        Assert.Equal(("acquire-1", 1L), (again.RecordVersionNumber, again.FencingToken));
        Assert.Equal(granted.RecordVersionNumber, again.RecordVersionNumber);

        var handOff = new HeartbeatLockRequest(key, "owner-a", "acquire-1", Lease) { IssueNewFencingToken = true, NewRecordVersionNumber = "hand-off-1" };
        var renewed = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(handOff)).Record;
        var renewedAgain = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(handOff)).Record;
        Assert.Equal(("hand-off-1", 2L), (renewed.RecordVersionNumber, renewed.FencingToken));
        Assert.Equal(("hand-off-1", 2L), (renewedAgain.RecordVersionNumber, renewedAgain.FencingToken));

        var release = new ReleaseLockRequest(key, "owner-a", "hand-off-1") { NewRecordVersionNumber = "release-1" };
        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(release));
        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(release));

        // Someone else's request with a version it never wrote is still refused.
        Assert.IsType<HeartbeatResult.Lost>(await Table.HeartbeatAsync(handOff with { OwnerName = "owner-b" }));
        Assert.IsType<ReleaseResult.NotHeld>(await Table.ReleaseAsync(release with { OwnerName = "owner-b" }));
        Assert.Equal(2, (await Table.ReadAsync(key))!.FencingToken);
    }

    [Fact]
    public async Task A_heartbeat_that_does_not_ask_for_the_data_returns_the_renewed_record_without_it_and_keeps_it_stored()
    {
        var key = NewKey();
        var held = await GrantAsync(key, data: [1, 2, 3]);

        var renewed = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(
            new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease) { ReturnData = false, NewRecordVersionNumber = "light-1" })).Record;
        var handedOn = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(
            new HeartbeatLockRequest(key, "owner-a", "light-1", Lease) { ReturnData = false, IssueNewFencingToken = true })).Record;

        Assert.Equal((key, "owner-a", "light-1", 1L, Lease), (renewed.Key, renewed.OwnerName, renewed.RecordVersionNumber, renewed.FencingToken, renewed.LeaseDuration));
        Assert.True(renewed.Data.IsEmpty);
        Assert.NotNull(renewed.HeartbeatAt);
        Assert.Equal(2, handedOn.FencingToken);
        var stored = await Table.ReadAsync(key);
        Assert.Equal([1, 2, 3], stored!.Data.ToArray());
        Assert.Equal((handedOn.RecordVersionNumber, 2L), (stored.RecordVersionNumber, stored.FencingToken));
    }

    [Fact]
    public async Task A_held_key_is_not_granted_and_the_holder_is_reported()
    {
        var key = NewKey();
        var held = await GrantAsync(key, "owner-a");

        var result = await Table.TryAcquireAsync(Request(key, "owner-b", TimeSpan.FromSeconds(5)));

        var holder = Assert.IsType<AcquireResult.Held>(result).Holder;
        Assert.Equal("owner-a", holder.OwnerName);
        Assert.Equal(held.RecordVersionNumber, holder.RecordVersionNumber);
        Assert.Equal(Lease, holder.LeaseDuration);
        Assert.Equal(1, holder.FencingToken);
    }

    [Fact]
    public async Task The_fencing_token_increments_on_every_acquisition_and_never_on_heartbeat()
    {
        var key = NewKey();
        var tokens = new List<long>();
        foreach (var owner in new[] { "owner-a", "owner-b", "owner-a" })
        {
            var record = await GrantAsync(key, owner);
            tokens.Add(record.FencingToken);
            for (var i = 0; i < 3; i++)
            {
                var renewed = Assert.IsType<HeartbeatResult.Renewed>(
                    await Table.HeartbeatAsync(new HeartbeatLockRequest(key, owner, record.RecordVersionNumber, Lease))).Record;
                Assert.Equal(record.FencingToken, renewed.FencingToken);
                Assert.NotEqual(record.RecordVersionNumber, renewed.RecordVersionNumber);
                record = renewed;
            }

            Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, owner, record.RecordVersionNumber)));
        }

        Assert.Equal([1L, 2L, 3L], tokens);
    }

    [Fact]
    public async Task A_heartbeat_that_hands_the_lock_to_the_next_local_holder_mints_a_new_token()
    {
        var key = NewKey();
        var record = await GrantAsync(key);

        var handedOver = Assert.IsType<HeartbeatResult.Renewed>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", record.RecordVersionNumber, Lease) { IssueNewFencingToken = true })).Record;

        Assert.Equal(2, handedOver.FencingToken);
        Assert.Equal("owner-a", handedOver.OwnerName);
    }

    [Fact]
    public async Task A_stale_record_version_cannot_heartbeat_release_or_take_over()
    {
        var key = NewKey();
        var first = await GrantAsync(key);
        var second = Assert.IsType<HeartbeatResult.Renewed>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", first.RecordVersionNumber, Lease))).Record;

        var heartbeat = await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", first.RecordVersionNumber, Lease));
        var release = await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", first.RecordVersionNumber));
        var takeover = await Table.TakeOverAsync(Request(key, "owner-b"), first.RecordVersionNumber);

        Assert.Equal(second.RecordVersionNumber, Assert.IsType<HeartbeatResult.Lost>(heartbeat).Current?.RecordVersionNumber);
        Assert.Equal(second.RecordVersionNumber, Assert.IsType<ReleaseResult.NotHeld>(release).Current?.RecordVersionNumber);
        Assert.Equal(second.RecordVersionNumber, Assert.IsType<AcquireResult.Held>(takeover).Holder.RecordVersionNumber);
        Assert.Equal(second, await Table.ReadAsync(key));
    }

    [Fact]
    public async Task Another_owner_with_the_holders_record_version_cannot_heartbeat_or_release()
    {
        var key = NewKey();
        var record = await GrantAsync(key, "owner-a");

        var heartbeat = await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-b", record.RecordVersionNumber, Lease));
        var release = await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-b", record.RecordVersionNumber));

        Assert.Equal("owner-a", Assert.IsType<HeartbeatResult.Lost>(heartbeat).Current?.OwnerName);
        Assert.Equal("owner-a", Assert.IsType<ReleaseResult.NotHeld>(release).Current?.OwnerName);
        Assert.Equal(record, await Table.ReadAsync(key));
    }

    [Fact]
    public async Task Taking_over_an_observed_record_grants_the_next_token_and_the_old_holder_loses()
    {
        var key = NewKey();
        var abandoned = await GrantAsync(key, "owner-a", data: [7]);

        var taken = Assert.IsType<AcquireResult.Granted>(await Table.TakeOverAsync(Request(key, "owner-b"), abandoned.RecordVersionNumber)).Record;

        Assert.Equal("owner-b", taken.OwnerName);
        Assert.Equal(2, taken.FencingToken);
        Assert.Equal([7], taken.Data.ToArray());
        var lost = Assert.IsType<HeartbeatResult.Lost>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", abandoned.RecordVersionNumber, Lease)));
        Assert.Equal("owner-b", lost.Current?.OwnerName);
    }

    [Fact]
    public async Task A_session_is_a_record_its_owner_heartbeats_and_a_waiter_expires_for_good()
    {
        // Sessions use the lock operations: create = acquire a fresh key, keep-alive = heartbeat, expire = release
        // conditioned on the version the waiter watched. An expired session's next heartbeat fails.
        var session = new LockKey(LockSessions.NewSessionKey("node-a"));
        var created = await GrantAsync(session, "node-a");
        var renewed = Assert.IsType<HeartbeatResult.Renewed>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(session, "node-a", created.RecordVersionNumber, Lease) { ReturnData = false })).Record;

        // A waiter that watched the first version cannot expire the renewed session; one that watched the current one can.
        Assert.IsType<ReleaseResult.NotHeld>(await Table.ReleaseAsync(new ReleaseLockRequest(session, "node-a", created.RecordVersionNumber)));
        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(session, "node-a", renewed.RecordVersionNumber)));

        var late = await Table.HeartbeatAsync(new HeartbeatLockRequest(session, "node-a", renewed.RecordVersionNumber, Lease) { ReturnData = false });
        Assert.True(Assert.IsType<HeartbeatResult.Lost>(late).Current?.IsReleased);
    }

    [Fact]
    public async Task A_session_held_lock_names_its_session_with_a_lease_no_session_unaware_client_would_ever_take_over()
    {
        var key = NewKey();
        var session = LockSessions.NewSessionKey("node-a");

        var granted = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(Request(key, "node-a") with { SessionKey = session })).Record;
        var stored = await Table.ReadAsync(key);

        Assert.Equal((session, LockSessions.HeldLeaseDuration, 1L), (granted.SessionKey, granted.LeaseDuration, granted.FencingToken));
        Assert.Equal((session, LockSessions.HeldLeaseDuration), (stored?.SessionKey, stored?.LeaseDuration));

        // A data write names the session again and keeps the record session-held; one without it turns the lock back
        // into a lock heartbeated on its own.
        var withData = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(
            new HeartbeatLockRequest(key, "node-a", granted.RecordVersionNumber, Lease) { Data = [1], SessionKey = session, ReturnData = false })).Record;
        Assert.Equal((session, LockSessions.HeldLeaseDuration), (withData.SessionKey, withData.LeaseDuration));
        Assert.Equal((session, LockSessions.HeldLeaseDuration), ((await Table.ReadAsync(key))?.SessionKey, (await Table.ReadAsync(key))?.LeaseDuration));
        var perLock = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(
            new HeartbeatLockRequest(key, "node-a", withData.RecordVersionNumber, Lease))).Record;
        Assert.Equal(((string?)null, (TimeSpan?)Lease), (perLock.SessionKey, perLock.LeaseDuration));
        Assert.Null((await Table.ReadAsync(key))?.SessionKey);
    }

    [Fact]
    public async Task A_session_held_lock_is_taken_over_on_its_version_and_released_without_its_session_name()
    {
        var key = NewKey();
        var sessionA = LockSessions.NewSessionKey("node-a");
        var sessionB = LockSessions.NewSessionKey("node-b");
        var held = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(Request(key, "node-a") with { SessionKey = sessionA })).Record;

        Assert.Equal(sessionA, Assert.IsType<AcquireResult.Held>(await Table.TryAcquireAsync(Request(key, "node-b") with { SessionKey = sessionB })).Holder.SessionKey);
        var taken = Assert.IsType<AcquireResult.Granted>(
            await Table.TakeOverAsync(Request(key, "node-b") with { SessionKey = sessionB }, held.RecordVersionNumber)).Record;
        Assert.Equal(("node-b", sessionB, 2L), (taken.OwnerName, taken.SessionKey, taken.FencingToken));

        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "node-b", taken.RecordVersionNumber)));
        var released = await Table.ReadAsync(key);
        Assert.Equal((true, (string?)null), (released?.IsReleased, released?.SessionKey));

        // Acquired again without a session: a lock heartbeated on its own, with the lease it asked for.
        var again = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(Request(key, "node-c"))).Record;
        Assert.Equal(((string?)null, (TimeSpan?)Lease, 3L), (again.SessionKey, again.LeaseDuration, again.FencingToken));
    }

    [Fact]
    public async Task Taking_over_a_free_key_grants_it_whatever_version_was_observed()
    {
        var missing = NewKey();
        var released = NewKey();
        var old = await GrantAsync(released);
        await Table.ReleaseAsync(new ReleaseLockRequest(released, "owner-a", old.RecordVersionNumber));

        var fromMissing = await Table.TakeOverAsync(Request(missing, "owner-b"), "no-such-version");
        var fromReleased = await Table.TakeOverAsync(Request(released, "owner-b"), old.RecordVersionNumber);

        Assert.Equal(1, Assert.IsType<AcquireResult.Granted>(fromMissing).Record.FencingToken);
        Assert.Equal(2, Assert.IsType<AcquireResult.Granted>(fromReleased).Record.FencingToken);
    }

    [Fact]
    public async Task A_released_record_is_kept_and_reacquired_with_the_next_token()
    {
        var key = NewKey();
        var first = await GrantAsync(key, "owner-a");

        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", first.RecordVersionNumber)));
        var stored = await Table.ReadAsync(key);
        var second = await GrantAsync(key, "owner-b");

        Assert.NotNull(stored);
        Assert.True(stored.IsReleased);
        Assert.NotEqual(first.RecordVersionNumber, stored.RecordVersionNumber);
        Assert.Equal(2, second.FencingToken);
        Assert.False(second.IsReleased);
    }

    [Fact]
    public async Task Releasing_twice_or_a_lock_never_held_reports_not_held()
    {
        var key = NewKey();
        var record = await GrantAsync(key);
        await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", record.RecordVersionNumber));

        var twice = await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", record.RecordVersionNumber));
        var never = await Table.ReleaseAsync(new ReleaseLockRequest(NewKey(), "owner-a", record.RecordVersionNumber));

        Assert.True(Assert.IsType<ReleaseResult.NotHeld>(twice).Current?.IsReleased);
        Assert.Null(Assert.IsType<ReleaseResult.NotHeld>(never).Current);
    }

    [Fact]
    public async Task Delete_on_release_removes_the_record_and_tokens_restart()
    {
        var key = NewKey();
        var record = await GrantAsync(key);

        var released = await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", record.RecordVersionNumber) { DeleteRecord = true });

        Assert.IsType<ReleaseResult.Released>(released);
        Assert.Null(await Table.ReadAsync(key));
        Assert.Equal(1, (await GrantAsync(key)).FencingToken);
    }

    [Fact]
    public async Task Data_round_trips_through_acquire_heartbeat_release_and_reacquire()
    {
        var key = NewKey();
        var payload = Encoding.UTF8.GetBytes("checkpoint=41");

        var granted = await GrantAsync(key, data: payload);
        var kept = Assert.IsType<HeartbeatResult.Renewed>(await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", granted.RecordVersionNumber, Lease))).Record;
        var replaced = Assert.IsType<HeartbeatResult.Renewed>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", kept.RecordVersionNumber, Lease) { Data = Encoding.UTF8.GetBytes("checkpoint=42") })).Record;
        await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", replaced.RecordVersionNumber) { Data = Encoding.UTF8.GetBytes("checkpoint=43") });
        var next = await GrantAsync(key, "owner-b");

        Assert.Equal(payload, granted.Data.ToArray());
        Assert.Equal(payload, kept.Data.ToArray());
        Assert.Equal("checkpoint=42", Encoding.UTF8.GetString(replaced.Data.Span));
        Assert.Equal("checkpoint=43", Encoding.UTF8.GetString(next.Data.Span));
    }

    [Fact]
    public async Task Data_that_does_not_replace_is_stored_only_where_there_is_none()
    {
        var fresh = NewKey();
        var kept = NewKey();
        var old = await GrantAsync(kept, data: [1]);
        await Table.ReleaseAsync(new ReleaseLockRequest(kept, "owner-a", old.RecordVersionNumber));

        var intoFresh = await Table.TryAcquireAsync(new AcquireLockRequest(fresh, "owner-a", Lease) { Data = [9], ReplaceData = false });
        var intoKept = await Table.TryAcquireAsync(new AcquireLockRequest(kept, "owner-b", Lease) { Data = [9], ReplaceData = false });

        Assert.Equal([9], Assert.IsType<AcquireResult.Granted>(intoFresh).Record.Data.ToArray());
        Assert.Equal([1], Assert.IsType<AcquireResult.Granted>(intoKept).Record.Data.ToArray());
    }

    [Fact]
    public async Task Storing_empty_data_removes_it()
    {
        var key = NewKey();
        var granted = await GrantAsync(key, data: [1, 2, 3]);

        var renewed = await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", granted.RecordVersionNumber, Lease) { Data = Array.Empty<byte>() });

        Assert.True(Assert.IsType<HeartbeatResult.Renewed>(renewed).Record.Data.IsEmpty);
        Assert.True((await Table.ReadAsync(key))!.Data.IsEmpty);
    }

    [Fact]
    public async Task A_fail_closed_lock_has_no_lease_and_keeps_none_on_heartbeat()
    {
        var key = NewKey();
        var granted = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", LeaseDuration: null))).Record;

        var renewed = await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", granted.RecordVersionNumber, LeaseDuration: null));

        Assert.Null(granted.LeaseDuration);
        Assert.Null(Assert.IsType<HeartbeatResult.Renewed>(renewed).Record.LeaseDuration);
    }

    [Fact]
    public async Task Concurrent_acquirers_of_a_free_key_get_exactly_one_grant()
    {
        var key = NewKey();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => Table.TryAcquireAsync(Request(key, $"owner-{i}")))));

        var granted = Assert.Single(results.OfType<AcquireResult.Granted>()).Record;
        Assert.All(results.OfType<AcquireResult.Held>(), held => Assert.Equal(granted.OwnerName, held.Holder.OwnerName));
        Assert.Equal(1, granted.FencingToken);
    }

    [Fact]
    public async Task Sort_keys_isolate_lock_families_under_one_partition_key()
    {
        var table = await CreateSortKeyTableAsync();
        var name = $"job/{Guid.NewGuid():N}";

        var a = await table.TryAcquireAsync(new AcquireLockRequest(new LockKey(name, "family-a"), "owner-a", Lease));
        var b = await table.TryAcquireAsync(new AcquireLockRequest(new LockKey(name, "family-b"), "owner-b", Lease));
        var again = await table.TryAcquireAsync(new AcquireLockRequest(new LockKey(name, "family-a"), "owner-c", Lease));
        var listed = await table.ListAsync(new ListLocksRequest { Key = name });

        Assert.Equal(1, Assert.IsType<AcquireResult.Granted>(a).Record.FencingToken);
        Assert.Equal(1, Assert.IsType<AcquireResult.Granted>(b).Record.FencingToken);
        Assert.Equal("owner-a", Assert.IsType<AcquireResult.Held>(again).Holder.OwnerName);
        Assert.Equal(["family-a", "family-b"], listed.Records.Select(r => r.Key.SortKey).Order(StringComparer.Ordinal));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => table.TryAcquireAsync(new AcquireLockRequest(new LockKey(name), "owner-a", Lease)));
        Assert.Contains("sortKey", error.Message, StringComparison.Ordinal);
        var noSortKey = await Assert.ThrowsAsync<ArgumentException>(() => Table.TryAcquireAsync(new AcquireLockRequest(new LockKey(name, "x"), "owner-a", Lease)));
        Assert.Contains("sortKey", noSortKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_pages_through_every_record_once()
    {
        var table = await CreateSortKeyTableAsync();
        var name = $"list/{Guid.NewGuid():N}";
        var expected = Enumerable.Range(0, 7).Select(i => $"member-{i}").ToList();
        foreach (var member in expected)
        {
            await table.TryAcquireAsync(new AcquireLockRequest(new LockKey(name, member), "owner-a", Lease));
        }

        var seen = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await table.ListAsync(new ListLocksRequest { Key = name, PageSize = 3, ContinuationToken = token });
            Assert.True(page.Records.Count <= 3);
            seen.AddRange(page.Records.Select(r => r.Key.SortKey!));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(expected, seen.Order(StringComparer.Ordinal));
        Assert.InRange(pages, 3, 4);

        var whole = await table.ListAsync(new ListLocksRequest { PageSize = 1000 });
        Assert.Superset(expected.ToHashSet(), whole.Records.Where(r => r.Key.Key == name).Select(r => r.Key.SortKey!).ToHashSet());
    }

    private static string[] Sorted(IEnumerable<string> waiters) => [.. waiters.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Registering_a_waiter_leaves_the_holders_record_alone_and_its_heartbeat_still_succeeds()
    {
        var key = NewKey();
        var held = await GrantAsync(key, data: [1, 2]);
        Assert.Empty(held.Waiters);

        Assert.Equal(WaiterRegistration.Registered, await Table.AddWaiterAsync(key, "node-b"));

        // Only the set changed: the holder's version number (what its heartbeats and a Java client condition on), owner,
        // lease, token and data are as the holder wrote them.
        var stored = (await Table.ReadAsync(key))!;
        Assert.Equal(
            (held.Key, held.OwnerName, held.RecordVersionNumber, held.FencingToken, held.LeaseDuration, held.IsReleased, held.HeartbeatAt, held.SessionKey),
            (stored.Key, stored.OwnerName, stored.RecordVersionNumber, stored.FencingToken, stored.LeaseDuration, stored.IsReleased, stored.HeartbeatAt, stored.SessionKey));
        Assert.Equal([1, 2], stored.Data.ToArray());
        Assert.Equal(["node-b"], Sorted(stored.Waiters));

        // Records compare their waiters by content, like their other attributes.
        Assert.Equal(stored with { Data = held.Data }, held with { Waiters = new HashSet<string> { "node-b" } });

        // The holder renews with the version it knows; the renewed record shows the waiter, and so does a hand-off.
        var renewed = Assert.IsType<HeartbeatResult.Renewed>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease))).Record;
        Assert.Equal(["node-b"], Sorted(renewed.Waiters));
        var handedOn = Assert.IsType<HeartbeatResult.Renewed>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", renewed.RecordVersionNumber, Lease) { IssueNewFencingToken = true })).Record;
        Assert.Equal(2, handedOn.FencingToken);
        Assert.Equal(["node-b"], Sorted(handedOn.Waiters));

        // A heartbeat that does not read the data back does not read the waiters either, and leaves them stored.
        var light = Assert.IsType<HeartbeatResult.Renewed>(
            await Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", handedOn.RecordVersionNumber, Lease) { ReturnData = false })).Record;
        Assert.Empty(light.Waiters);
        Assert.Equal(["node-b"], Sorted((await Table.ReadAsync(key))!.Waiters));
    }

    [Fact]
    public async Task Registering_on_a_missing_key_reports_the_lock_free_and_creates_nothing()
    {
        var key = NewKey();

        Assert.Equal(WaiterRegistration.LockFree, await Table.AddWaiterAsync(key, "node-b"));

        Assert.Null(await Table.ReadAsync(key));
        Assert.Equal(1, (await GrantAsync(key)).FencingToken);
    }

    [Fact]
    public async Task Registering_on_a_released_record_reports_the_lock_free_and_writes_nothing()
    {
        // A registration that lands just after the release it was meant for: nobody would release this record again.
        var key = NewKey();
        var held = await GrantAsync(key);
        Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", held.RecordVersionNumber)));
        var released = (await Table.ReadAsync(key))!;

        Assert.Equal(WaiterRegistration.LockFree, await Table.AddWaiterAsync(key, "node-b"));

        var after = (await Table.ReadAsync(key))!;
        Assert.True(after.IsReleased);
        Assert.Empty(after.Waiters);
        Assert.Equal(released.RecordVersionNumber, after.RecordVersionNumber);
    }

    [Fact]
    public async Task Registering_twice_is_one_entry_and_every_waiter_is_listed()
    {
        var key = NewKey();
        var held = await GrantAsync(key);

        Assert.Equal(WaiterRegistration.Registered, await Table.AddWaiterAsync(key, "node-b"));
        Assert.Equal(WaiterRegistration.Registered, await Table.AddWaiterAsync(key, "node-b"));
        Assert.Equal(WaiterRegistration.Registered, await Table.AddWaiterAsync(key, "node-c"));

        var stored = (await Table.ReadAsync(key))!;
        Assert.Equal(["node-b", "node-c"], Sorted(stored.Waiters));
        Assert.Equal(held.RecordVersionNumber, stored.RecordVersionNumber);
        Assert.Equal(["node-b", "node-c"], Sorted(Assert.IsType<AcquireResult.Held>(await Table.TryAcquireAsync(Request(key, "owner-b"))).Holder.Waiters));
    }

    [Fact]
    public async Task A_release_returns_the_waiters_and_clears_them()
    {
        var key = NewKey();
        var held = await GrantAsync(key);
        await Table.AddWaiterAsync(key, "node-b");
        await Table.AddWaiterAsync(key, "node-c");

        var released = Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", held.RecordVersionNumber)));

        Assert.Equal(["node-b", "node-c"], Sorted(released.Waiters));
        var stored = (await Table.ReadAsync(key))!;
        Assert.True(stored.IsReleased);
        Assert.Empty(stored.Waiters);

        // A release with nobody waiting returns an empty set.
        var next = await GrantAsync(key, "owner-b");
        Assert.Empty(Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-b", next.RecordVersionNumber))).Waiters);
    }

    [Fact]
    public async Task A_delete_on_release_returns_the_waiters_too()
    {
        var key = NewKey();
        var held = await GrantAsync(key);
        await Table.AddWaiterAsync(key, "node-b");
        await Table.AddWaiterAsync(key, "node-c");

        var released = Assert.IsType<ReleaseResult.Released>(
            await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-a", held.RecordVersionNumber) { DeleteRecord = true }));

        Assert.Equal(["node-b", "node-c"], Sorted(released.Waiters));
        Assert.Null(await Table.ReadAsync(key));
    }

    [Fact]
    public async Task An_acquire_by_a_waiter_removes_only_that_waiter()
    {
        var key = NewKey();
        var held = await GrantAsync(key);
        await Table.AddWaiterAsync(key, "node-b");
        await Table.AddWaiterAsync(key, "node-c");

        // Refused: the set is left alone.
        Assert.IsType<AcquireResult.Held>(await Table.TryAcquireAsync(Request(key, "owner-b") with { WaiterToRemove = "node-b" }));
        Assert.Equal(["node-b", "node-c"], Sorted((await Table.ReadAsync(key))!.Waiters));

        // A takeover by node-b removes node-b in the granting write; node-c still waits.
        var taken = Assert.IsType<AcquireResult.Granted>(
            await Table.TakeOverAsync(Request(key, "owner-b") with { WaiterToRemove = "node-b" }, held.RecordVersionNumber)).Record;
        Assert.Equal(["node-c"], Sorted(taken.Waiters));
        Assert.Equal(["node-c"], Sorted((await Table.ReadAsync(key))!.Waiters));

        // A released record is not registered on (the lock is free); the waiter's acquire removing an address that is not
        // listed is no error.
        var released = Assert.IsType<ReleaseResult.Released>(await Table.ReleaseAsync(new ReleaseLockRequest(key, "owner-b", taken.RecordVersionNumber)));
        Assert.Equal(["node-c"], Sorted(released.Waiters));
        Assert.Equal(WaiterRegistration.LockFree, await Table.AddWaiterAsync(key, "node-c"));
        var acquired = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(Request(key, "owner-c") with { WaiterToRemove = "node-c" })).Record;
        Assert.Empty(acquired.Waiters);
        Assert.Empty((await Table.ReadAsync(key))!.Waiters);

        // Removing a waiter that is not there (here from a new key) is no error.
        var fresh = Assert.IsType<AcquireResult.Granted>(await Table.TryAcquireAsync(Request(NewKey()) with { WaiterToRemove = "node-x" })).Record;
        Assert.Empty(fresh.Waiters);
    }

    [Fact]
    public async Task Bad_input_is_rejected_with_the_settings_name()
    {
        var key = NewKey();

        Assert.Contains("key", Assert.Throws<ArgumentException>(() => new LockKey("")).Message, StringComparison.Ordinal);
        Assert.Contains("2049 UTF-8 bytes", Assert.Throws<ArgumentException>(() => new LockKey(new string('k', 2049))).Message, StringComparison.Ordinal);
        Assert.Contains("UTF-8 bytes", Assert.Throws<ArgumentException>(() => new LockKey(new string('é', 1025))).Message, StringComparison.Ordinal);
        Assert.Contains("sortKey", Assert.Throws<ArgumentException>(() => new LockKey("k", new string('s', 1025))).Message, StringComparison.Ordinal);
        Assert.Equal(2048, new LockKey(new string('k', 2048)).Key.Length);

        await AssertRejected<ArgumentOutOfRangeException>("leaseDuration", () => Table.TryAcquireAsync(Request(key, lease: TimeSpan.Zero)));
        await AssertRejected<ArgumentOutOfRangeException>("leaseDuration", () => Table.TryAcquireAsync(Request(key, lease: TimeSpan.FromSeconds(-1))));
        await AssertRejected<ArgumentOutOfRangeException>("leaseDuration", () => Table.TryAcquireAsync(Request(key, lease: TimeSpan.FromDays(30))));
        await AssertRejected<ArgumentException>("ownerName", () => Table.TryAcquireAsync(Request(key, owner: " ")));
        await AssertRejected<ArgumentException>("data", () => Table.TryAcquireAsync(Request(key, data: new byte[LockValidation.MaxDataBytes + 1])));
        await AssertRejected<ArgumentException>("recordVersionNumber", () => Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", "", Lease)));
        await AssertRejected<ArgumentException>("observedRecordVersionNumber", () => Table.TakeOverAsync(Request(key), ""));
        await AssertRejected<ArgumentException>("sessionKey", () => Table.TryAcquireAsync(Request(key) with { SessionKey = "not/a/session" }));
        await AssertRejected<ArgumentException>("sessionKey", () => Table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", "v", Lease) { SessionKey = "" }));
        await AssertRejected<ArgumentException>("waiter", () => Table.AddWaiterAsync(key, ""));
        await AssertRejected<ArgumentException>("waiter", () => Table.AddWaiterAsync(key, new string('w', LockValidation.MaxWaiterLength + 1)));
        await AssertRejected<ArgumentException>("waiterToRemove", () => Table.TryAcquireAsync(Request(key) with { WaiterToRemove = " " }));
        await AssertRejected<ArgumentOutOfRangeException>("pageSize", () => Table.ListAsync(new ListLocksRequest { PageSize = 0 }));
        await AssertRejected<ArgumentException>("continuationToken", () => Table.ListAsync(new ListLocksRequest { ContinuationToken = "not a token" }));
        Assert.Null(await Table.ReadAsync(key));
    }

    private static async Task AssertRejected<TException>(string setting, Func<Task> call)
        where TException : ArgumentException
    {
        var error = await Assert.ThrowsAsync<TException>(call);
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.Equal(setting, error.ParamName);
    }
}
