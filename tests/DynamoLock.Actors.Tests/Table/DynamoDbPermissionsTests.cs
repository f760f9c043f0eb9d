using System.Reflection;
using System.Text.Json;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Table;

/// <summary>
/// <c>dynamolock iam-policy</c> grants exactly what the adapter sends: every method of <see cref="ILockTable"/> runs on the
/// real local server, the DynamoDB operations its requests name are counted at the HTTP layer, and the policy's actions
/// must be those operations, no more and no fewer.
/// </summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbPermissionsTests(DynamoDbTableFixture fixture, ITestOutputHelper output) : IClassFixture<DynamoDbTableFixture>, IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);
    private readonly DynamoLockCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task The_policy_lists_every_operation_the_adapter_sends_and_nothing_else()
    {
        var requests = new RequestCounter();
        using var client = fixture.Server.CreateClient(requests);
        var name = DynamoDbTableFixture.UniqueTableName("iam");
        var (table, calls) = ObservedLockTable.Over(new DynamoDbLockTable(client, new DynamoDbLockTableOptions { TableName = name }), requests);
        try
        {
            await RunEveryCallAsync(table);
        }
        finally
        {
            await fixture.Client.DeleteTableAsync(name);
        }

        var sent = calls.OperationsByMethod();
        foreach (var (method, operations) in sent)
        {
            output.WriteLine($"{method}: {string.Join(", ", operations)}");
        }

        // A method added to the port without a call here fails this line: the workload must cover the whole interface.
        var methods = typeof(ILockTable).GetMethods().Where(m => !m.IsSpecialName).Select(m => m.Name).Order(StringComparer.Ordinal);
        Assert.Equal(methods, sent.Keys.Order(StringComparer.Ordinal));

        // Table set-up is what EnsureTableAsync sends; everything else is what a running node needs.
        var all = sent.Values.SelectMany(o => o).Select(o => $"dynamodb:{o}").ToHashSet(StringComparer.Ordinal);
        var runtime = sent.Where(p => p.Key != nameof(ILockTable.EnsureTableAsync)).SelectMany(p => p.Value).Select(o => $"dynamodb:{o}").ToHashSet(StringComparer.Ordinal);
        Assert.Equal(runtime.Order(StringComparer.Ordinal), (await PolicyActionsAsync(name)).Order(StringComparer.Ordinal));
        Assert.Equal(all.Order(StringComparer.Ordinal), (await PolicyActionsAsync(name, "--create-table")).Order(StringComparer.Ordinal));
    }

    /// <summary>Every method of the port, in each of the ways the library calls it (per-lock and session mode), awaited one by one.</summary>
    private static async Task RunEveryCallAsync(ILockTable table)
    {
        // A missing table: created (DescribeTable until ACTIVE, time-to-live switched on). Then an existing one: checked.
        Assert.True((await table.EnsureTableAsync()).Created);
        Assert.False((await table.EnsureTableAsync()).Created);

        // A free key, then the same key contended (dynalite answers the failed condition without the holder: one GetItem).
        var key = new LockKey($"iam/{Guid.NewGuid():N}");
        var held = Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(key, "owner-a", Lease))).Record;
        Assert.IsType<AcquireResult.Held>(await table.TryAcquireAsync(new AcquireLockRequest(key, "owner-b", Lease)));

        // A heartbeat, one that stores data without reading it back (StoreLockData), and a local hand-off (a new token).
        held = Assert.IsType<HeartbeatResult.Renewed>(await table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease))).Record;
        held = Assert.IsType<HeartbeatResult.Renewed>(await table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease) { Data = [1, 2], ReturnData = false })).Record;
        held = Assert.IsType<HeartbeatResult.Renewed>(await table.HeartbeatAsync(new HeartbeatLockRequest(key, "owner-a", held.RecordVersionNumber, Lease) { IssueNewFencingToken = true })).Record;

        // Reads and lists: one key (Query) and the whole table (Scan).
        Assert.NotNull(await table.ReadAsync(key));
        Assert.Single((await table.ListAsync(new ListLocksRequest { Key = key.Key })).Records);
        Assert.NotEmpty((await table.ListAsync(new ListLocksRequest())).Records);

        // Notices: waiters register on the held record (and on a missing one, refused), a takeover by a waiter removes it,
        // and a release returns the others.
        Assert.Equal(WaiterRegistration.Registered, await table.AddWaiterAsync(key, "node-b"));
        Assert.Equal(WaiterRegistration.Registered, await table.AddWaiterAsync(key, "node-c"));
        Assert.Equal(WaiterRegistration.LockFree, await table.AddWaiterAsync(new LockKey($"iam/{Guid.NewGuid():N}"), "node-b"));

        // A takeover of the record last seen with the holder's version, then a release that keeps the record.
        var taken = Assert.IsType<AcquireResult.Granted>(
            await table.TakeOverAsync(new AcquireLockRequest(key, "owner-b", Lease) { WaiterToRemove = "node-b" }, held.RecordVersionNumber)).Record;
        Assert.Equal(["node-c"], Assert.IsType<ReleaseResult.Released>(await table.ReleaseAsync(new ReleaseLockRequest(key, "owner-b", taken.RecordVersionNumber))).Waiters);

        // A fail-closed lock (no lease) released with delete-on-release, which returns its waiters too.
        var failClosed = new LockKey($"iam/{Guid.NewGuid():N}");
        var closed = Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(failClosed, "owner-a", null))).Record;
        Assert.Equal(WaiterRegistration.Registered, await table.AddWaiterAsync(failClosed, "node-b"));
        Assert.Equal(["node-b"], Assert.IsType<ReleaseResult.Released>(
            await table.ReleaseAsync(new ReleaseLockRequest(failClosed, "owner-a", closed.RecordVersionNumber) { DeleteRecord = true })).Waiters);

        // Session mode: a session starts, a lock is held under it, the session is renewed and read, then the lock is
        // released and the session ended.
        var sessionKey = new LockKey(LockSessions.NewSessionKey("owner-a"));
        var session = Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(sessionKey, "owner-a", Lease))).Record;
        var underSession = new LockKey($"iam/{Guid.NewGuid():N}");
        var sessionHeld = Assert.IsType<AcquireResult.Granted>(await table.TryAcquireAsync(new AcquireLockRequest(underSession, "owner-a", Lease) { SessionKey = sessionKey.Key })).Record;
        session = Assert.IsType<HeartbeatResult.Renewed>(await table.HeartbeatAsync(new HeartbeatLockRequest(sessionKey, "owner-a", session.RecordVersionNumber, Lease) { ReturnData = false })).Record;
        Assert.NotNull(await table.ReadAsync(sessionKey));
        Assert.IsType<ReleaseResult.Released>(await table.ReleaseAsync(new ReleaseLockRequest(underSession, "owner-a", sessionHeld.RecordVersionNumber)));
        Assert.IsType<ReleaseResult.Released>(await table.ReleaseAsync(new ReleaseLockRequest(sessionKey, "owner-a", session.RecordVersionNumber)));
    }

    /// <summary>Every action of every statement of <c>dynamolock iam-policy --table TABLE [ARGS]</c>.</summary>
    private async Task<HashSet<string>> PolicyActionsAsync(string table, params string[] args)
    {
        var result = await _cli.RunAsync(["iam-policy", "--table", table, .. args]);
        Assert.True(result.ExitCode == 0, result.Error);
        using var policy = JsonDocument.Parse(result.Output);
        return policy.RootElement.GetProperty("Statement").EnumerateArray()
            .SelectMany(s => s.GetProperty("Action").EnumerateArray())
            .Select(a => a.GetString()!)
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// An <see cref="ILockTable"/> that notes which of its methods are called and which DynamoDB operations each one sent:
    /// the requests counted between one call and the next belong to the first (the workload awaits each call before it
    /// makes the next).
    /// </summary>
    public class ObservedLockTable : DispatchProxy
    {
        private readonly Dictionary<string, SortedSet<string>> _operations = new(StringComparer.Ordinal);
        private ILockTable? _target;
        private RequestCounter? _requests;
        private string? _current;

        /// <summary>A table that forwards to <paramref name="target"/>, whose client <paramref name="requests"/> counts.</summary>
        public static (ILockTable Table, ObservedLockTable Calls) Over(ILockTable target, RequestCounter requests)
        {
            var table = Create<ILockTable, ObservedLockTable>();
            var calls = (ObservedLockTable)(object)table;
            (calls._target, calls._requests) = (target, requests);
            requests.Reset();
            return (table, calls);
        }

        /// <summary>The operations each called method sent (a method that sent nothing still appears, with none).</summary>
        public IReadOnlyDictionary<string, SortedSet<string>> OperationsByMethod()
        {
            Settle();
            return _operations;
        }

        /// <inheritdoc />
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (!targetMethod.IsSpecialName)
            {
                Settle();
                _current = targetMethod.Name;
                _operations.TryAdd(_current, new SortedSet<string>(StringComparer.Ordinal));
            }

            return targetMethod.Invoke(_target, args);
        }

        private void Settle()
        {
            var counts = _requests!.Counts;
            _requests.Reset();
            if (counts.Count > 0)
            {
                Assert.True(_current is not null, $"requests before any call: {string.Join(", ", counts.Keys)}");
                _operations[_current!].UnionWith(counts.Keys);
            }
        }
    }
}
