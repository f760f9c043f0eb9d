using System.Text.Json;

namespace DynamoLock.Actors.Table;

/// <summary>
/// A thread-safe lock table in process memory with the same semantics as <see cref="DynamoDbLockTable"/>: the embedded
/// default for the demo and for unit tests of code that uses locks. Share one instance between the actor systems that
/// should compete for the same locks.
/// </summary>
public sealed class InMemoryLockTable : ILockTable
{
    private readonly object _gate = new();
    private readonly SortedDictionary<(string Key, string SortKey), LockRecord> _records = new(KeyComparer.Instance);
    private readonly TimeProvider _timeProvider;
    private readonly bool _usesSortKey;

    /// <summary>Creates an empty table.</summary>
    /// <param name="tableName">A name for messages and metrics.</param>
    /// <param name="timeProvider">The clock for the display-only <c>heartbeatAt</c> attribute; the system clock by default.</param>
    /// <param name="usesSortKey">Whether keys must carry a sort key, like a DynamoDB table with a sort key.</param>
    public InMemoryLockTable(string tableName = "dynamolock-in-memory", TimeProvider? timeProvider = null, bool usesSortKey = false)
    {
        TableName = string.IsNullOrWhiteSpace(tableName) ? throw new ArgumentException("tableName must not be empty.", nameof(tableName)) : tableName;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _usesSortKey = usesSortKey;
    }

    /// <inheritdoc />
    public string TableName { get; }

    /// <summary>The number of records stored, held or released.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    /// <inheritdoc />
    public Task<AcquireResult> TryAcquireAsync(AcquireLockRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        return Task.FromResult(Acquire(request, observedRecordVersionNumber: null, cancellationToken));
    }

    /// <inheritdoc />
    public Task<AcquireResult> TakeOverAsync(AcquireLockRequest request, string observedRecordVersionNumber, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        LockValidation.RecordVersionNumber(observedRecordVersionNumber, nameof(observedRecordVersionNumber));
        return Task.FromResult(Acquire(request, observedRecordVersionNumber, cancellationToken));
    }

    /// <inheritdoc />
    public Task<HeartbeatResult> HeartbeatAsync(HeartbeatLockRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        var id = Id(request.Key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _records.TryGetValue(id, out var current);
            if (IsOwnEarlierWrite(current, request.OwnerName, request.NewRecordVersionNumber, released: false))
            {
                return Task.FromResult<HeartbeatResult>(new HeartbeatResult.Renewed(current!));
            }

            if (current is null || current.IsReleased || !current.IsWrittenBy(request.OwnerName, request.RecordVersionNumber))
            {
                return Task.FromResult<HeartbeatResult>(new HeartbeatResult.Lost(current));
            }

            var renewed = current with
            {
                RecordVersionNumber = request.NewRecordVersionNumber ?? RecordVersionNumbers.Next(),
                LeaseDuration = request.SessionKey is null ? request.LeaseDuration : LockSessions.HeldLeaseDuration,
                SessionKey = request.SessionKey,
                HeartbeatAt = _timeProvider.GetUtcNow(),
                Data = request.Data is { } data ? data.ToArray() : current.Data,
                FencingToken = request.IssueNewFencingToken ? current.FencingToken + 1 : current.FencingToken,
            };
            _records[id] = renewed;
            // Like DynamoDB's UPDATED_NEW answer, a heartbeat that does not ask for the data gets no waiters back either.
            return Task.FromResult<HeartbeatResult>(new HeartbeatResult.Renewed(
                request.ReturnData ? renewed : renewed with { Data = ReadOnlyMemory<byte>.Empty, Waiters = LockWaiters.Empty }));
        }
    }

    /// <inheritdoc />
    public Task<ReleaseResult> ReleaseAsync(ReleaseLockRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        var id = Id(request.Key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _records.TryGetValue(id, out var current);
            if (!request.DeleteRecord && IsOwnEarlierWrite(current, request.OwnerName, request.NewRecordVersionNumber, released: true))
            {
                return Task.FromResult<ReleaseResult>(ReleaseResult.Released.Instance);
            }

            if (current is null || current.IsReleased || !current.IsWrittenBy(request.OwnerName, request.RecordVersionNumber))
            {
                return Task.FromResult<ReleaseResult>(new ReleaseResult.NotHeld(current));
            }

            if (request.DeleteRecord)
            {
                _records.Remove(id);
            }
            else
            {
                _records[id] = current with
                {
                    IsReleased = true,
                    SessionKey = null,
                    Waiters = LockWaiters.Empty,
                    RecordVersionNumber = request.NewRecordVersionNumber ?? RecordVersionNumbers.Next(),
                    Data = request.Data is { } data ? data.ToArray() : current.Data,
                };
            }

            return Task.FromResult<ReleaseResult>(new ReleaseResult.Released { Waiters = current.Waiters });
        }
    }

    /// <inheritdoc />
    public Task<WaiterRegistration> AddWaiterAsync(LockKey key, string waiter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        LockValidation.Waiter(waiter, nameof(waiter));
        var id = Id(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_records.TryGetValue(id, out var current) || current.IsReleased)
            {
                return Task.FromResult(WaiterRegistration.LockFree);
            }

            // The set alone changes: same version number, owner, lease, token and data, as on DynamoDB.
            _records[id] = current with { Waiters = LockWaiters.From(current.Waiters).With(waiter) };
            return Task.FromResult(WaiterRegistration.Registered);
        }
    }

    /// <inheritdoc />
    public Task<LockRecord?> ReadAsync(LockKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = Id(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_records.GetValueOrDefault(id));
        }
    }

    /// <inheritdoc />
    public Task<LockPage> ListAsync(ListLocksRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        cancellationToken.ThrowIfCancellationRequested();
        var after = request.ContinuationToken is null ? ((string, string)?)null : DecodeToken(request.ContinuationToken);
        lock (_gate)
        {
            var page = new List<LockRecord>(Math.Min(request.PageSize, _records.Count));
            var more = false;
            foreach (var (id, record) in _records)
            {
                if (after is { } start && KeyComparer.Instance.Compare(id, start) <= 0)
                {
                    continue;
                }

                if (request.Key is not null && !string.Equals(id.Key, request.Key, StringComparison.Ordinal))
                {
                    continue;
                }

                if (page.Count == request.PageSize)
                {
                    more = true;
                    break;
                }

                page.Add(record);
            }

            var token = more ? EncodeToken(Id(page[^1].Key)) : null;
            return Task.FromResult(new LockPage(page, token));
        }
    }

    /// <inheritdoc />
    public Task<EnsureTableResult> EnsureTableAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new EnsureTableResult(TableName, Created: false, TimeToLiveEnabled: null));

    private AcquireResult Acquire(AcquireLockRequest request, string? observedRecordVersionNumber, CancellationToken cancellationToken)
    {
        var id = Id(request.Key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _records.TryGetValue(id, out var current);
            var free = current is null || current.IsReleased;
            var abandoned = current is not null && observedRecordVersionNumber is not null
                && string.Equals(current.RecordVersionNumber, observedRecordVersionNumber, StringComparison.Ordinal);
            if (IsOwnEarlierWrite(current, request.OwnerName, request.NewRecordVersionNumber, released: false))
            {
                return new AcquireResult.Granted(current!);
            }

            if (!free && !abandoned)
            {
                return new AcquireResult.Held(current!);
            }

            var granted = new LockRecord(request.Key, request.OwnerName, request.NewRecordVersionNumber ?? RecordVersionNumbers.Next(), (current?.FencingToken ?? 0) + 1)
            {
                LeaseDuration = request.SessionKey is null ? request.LeaseDuration : LockSessions.HeldLeaseDuration,
                SessionKey = request.SessionKey,
                HeartbeatAt = _timeProvider.GetUtcNow(),
                Data = NewData(request, current),
                Waiters = LockWaiters.From(current?.Waiters).Without(request.WaiterToRemove),
            };
            _records[id] = granted;
            return new AcquireResult.Granted(granted);
        }
    }

    /// <summary>
    /// Whether the record is the outcome of this very write, applied by an earlier attempt whose answer the caller never
    /// got: the same owner and the version number the write sets. Such a retry succeeds, as on DynamoDB.
    /// </summary>
    private static bool IsOwnEarlierWrite(LockRecord? current, string ownerName, string? newRecordVersionNumber, bool released) =>
        current is not null && newRecordVersionNumber is not null && current.IsReleased == released && current.IsWrittenBy(ownerName, newRecordVersionNumber);

    private static ReadOnlyMemory<byte> NewData(AcquireLockRequest request, LockRecord? current)
    {
        var stored = current?.Data ?? ReadOnlyMemory<byte>.Empty;
        return request.Data switch
        {
            null => stored,
            { Length: > 0 } data when !request.ReplaceData => stored.IsEmpty ? data.ToArray() : stored,
            _ when !request.ReplaceData => stored,
            { } data => data.ToArray(),
        };
    }

    private (string Key, string SortKey) Id(LockKey key)
    {
        if (_usesSortKey && key.SortKey is null)
        {
            throw new ArgumentException($"Table '{TableName}' has a sort key: the lock key '{key.Key}' must carry a sortKey.", nameof(key));
        }

        if (!_usesSortKey && key.SortKey is not null)
        {
            throw new ArgumentException($"Table '{TableName}' has no sort key: the lock key '{key.Key}' must not carry a sortKey.", nameof(key));
        }

        return (key.Key, key.SortKey ?? string.Empty);
    }

    private static string EncodeToken((string Key, string SortKey) id) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new[] { id.Key, id.SortKey }));

    private static (string Key, string SortKey) DecodeToken(string token)
    {
        try
        {
            var parts = JsonSerializer.Deserialize<string[]>(Convert.FromBase64String(token));
            if (parts is [var key, var sortKey])
            {
                return (key, sortKey);
            }
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
        }

        throw new ArgumentException("continuationToken is not a token returned by this table's ListAsync.", "continuationToken");
    }

    private sealed class KeyComparer : IComparer<(string Key, string SortKey)>
    {
        public static readonly KeyComparer Instance = new();

        public int Compare((string Key, string SortKey) x, (string Key, string SortKey) y)
        {
            var byKey = string.CompareOrdinal(x.Key, y.Key);
            return byKey != 0 ? byKey : string.CompareOrdinal(x.SortKey, y.SortKey);
        }
    }
}
