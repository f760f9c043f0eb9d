using System.Globalization;
using System.Net;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace DynamoLock.Actors.Table;

/// <summary>
/// The lock table on Amazon DynamoDB. Each protocol step is one request: an uncontended acquire (new or released key),
/// a heartbeat and a release are one <c>UpdateItem</c> (or <c>DeleteItem</c>) each; a contended acquire adds one
/// consistent <c>GetItem</c> only where the server does not return the holder's item with the failed condition.
/// </summary>
/// <remarks>
/// Every write carries a fresh record version number chosen before it is sent, so an ambiguous outcome (a timeout, a 5xx,
/// or an SDK retry of a write that had already been applied) is resolved by reading the record: if it carries our
/// version number, our write was applied.
/// </remarks>
public sealed class DynamoDbLockTable : ILockTable
{
    private const int MaxFreeRaceRetries = 3;
    private static readonly AttributeValue One = new() { N = "1" };
    private static readonly AttributeValue Zero = new() { N = "0" };
    private static readonly AttributeValue Released = new() { S = LockAttributes.IsReleasedValue };

    private readonly IAmazonDynamoDB _client;
    private readonly DynamoDbLockTableOptions _options;

    /// <summary>Creates the adapter. The client is not disposed by this class.</summary>
    /// <param name="client">A DynamoDB client, configured as usual (region, credentials, <c>AWS_ENDPOINT_URL_DYNAMODB</c>).</param>
    /// <param name="options">The table's name and key schema; defaults when <see langword="null"/>.</param>
    public DynamoDbLockTable(IAmazonDynamoDB client, DynamoDbLockTableOptions? options = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = (options ?? new DynamoDbLockTableOptions()).Validate();
    }

    /// <inheritdoc />
    public string TableName => _options.TableName;

    /// <summary>The options in force.</summary>
    public DynamoDbLockTableOptions Options => _options;

    /// <inheritdoc />
    public Task<AcquireResult> TryAcquireAsync(AcquireLockRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        return AcquireAsync(request, observedRecordVersionNumber: null, cancellationToken);
    }

    /// <inheritdoc />
    public Task<AcquireResult> TakeOverAsync(AcquireLockRequest request, string observedRecordVersionNumber, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        LockValidation.RecordVersionNumber(observedRecordVersionNumber, nameof(observedRecordVersionNumber));
        return AcquireAsync(request, observedRecordVersionNumber, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<HeartbeatResult> HeartbeatAsync(HeartbeatLockRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        var key = KeyAttributes(request.Key);
        var newVersion = request.NewRecordVersionNumber ?? RecordVersionNumbers.Next();
        var update = new UpdateBuilder(_options)
            .Set(LockAttributes.RecordVersionNumber, new AttributeValue { S = newVersion })
            .SetLease(request.LeaseDuration, request.SessionKey)
            .SetData(request.Data);
        if (request.IssueNewFencingToken)
        {
            update.Add(LockAttributes.FencingToken, One);
        }
        else if (!request.ReturnData)
        {
            // Adding zero changes nothing but makes the token one of the updated attributes UPDATED_NEW returns.
            update.Add(LockAttributes.FencingToken, Zero);
        }

        var write = update.ToRequest(key, HeldByCondition(update, request.OwnerName, request.RecordVersionNumber));
        write.ReturnValues = request.ReturnData ? ReturnValue.ALL_NEW : ReturnValue.UPDATED_NEW;
        LockRecord Renewed(Dictionary<string, AttributeValue> attributes) => request.ReturnData
            ? ToRecord(attributes)
            : ToRenewedRecord(request, newVersion, attributes);
        return (await WriteAsync<HeartbeatResult>(
            "Heartbeat",
            request.Key,
            async () => new HeartbeatResult.Renewed(Renewed((await _client.UpdateItemAsync(write, cancellationToken).ConfigureAwait(false)).Attributes)),
            current => current is not null && current.IsHeld && current.IsWrittenBy(request.OwnerName, newVersion)
                ? new HeartbeatResult.Renewed(current)
                : new HeartbeatResult.Lost(current),
            current => current is not null && current.IsHeld && current.IsWrittenBy(request.OwnerName, request.RecordVersionNumber),
            cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async Task<ReleaseResult> ReleaseAsync(ReleaseLockRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        var key = KeyAttributes(request.Key);
        var newVersion = request.NewRecordVersionNumber ?? RecordVersionNumbers.Next();
        bool Applied(LockRecord? current) =>
            request.DeleteRecord ? current is null : current is { IsReleased: true } && current.IsWrittenBy(request.OwnerName, newVersion);

        async Task<ReleaseResult> Write()
        {
            if (request.DeleteRecord)
            {
                var names = new UpdateBuilder(_options);
                var condition = HeldByCondition(names, request.OwnerName, request.RecordVersionNumber);
                // ALL_OLD is the only way a delete returns anything: the waiters come back with the deleted item.
                var deleted = await _client.DeleteItemAsync(
                    new DeleteItemRequest
                    {
                        TableName = _options.TableName,
                        Key = key,
                        ConditionExpression = condition,
                        ExpressionAttributeNames = names.Names,
                        ExpressionAttributeValues = names.Values,
                        ReturnValues = ReturnValue.ALL_OLD,
                        ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
                    },
                    cancellationToken).ConfigureAwait(false);
                return new ReleaseResult.Released { Waiters = WaitersIn(deleted.Attributes) };
            }
            else
            {
                var update = new UpdateBuilder(_options)
                    .Set(LockAttributes.IsReleased, Released)
                    .Set(LockAttributes.RecordVersionNumber, new AttributeValue { S = newVersion })
                    .Remove(LockAttributes.SessionKey)
                    .Remove(LockAttributes.Waiters)
                    .SetData(request.Data);
                var write = update.ToRequest(key, HeldByCondition(update, request.OwnerName, request.RecordVersionNumber));

                // UPDATED_OLD returns the removed waiters as they were, without reading back the record's data (up to
                // 384 KiB) as ALL_OLD would; the waiters then cost nothing but their own bytes in the answer.
                write.ReturnValues = ReturnValue.UPDATED_OLD;
                var released = await _client.UpdateItemAsync(write, cancellationToken).ConfigureAwait(false);
                return new ReleaseResult.Released { Waiters = WaitersIn(released.Attributes) };
            }
        }

        // A release settled by reading the record back (its answer was lost) returns no waiters: the applied write had
        // cleared them. They are not told, and find the lock free at their next poll.
        return (await WriteAsync(
            "Release",
            request.Key,
            Write,
            current => Applied(current) ? ReleaseResult.Released.Instance : new ReleaseResult.NotHeld(current),
            current => current is not null && current.IsHeld && current.IsWrittenBy(request.OwnerName, request.RecordVersionNumber),
            cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async Task<WaiterRegistration> AddWaiterAsync(LockKey key, string waiter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        LockValidation.Waiter(waiter, nameof(waiter));
        var attributes = KeyAttributes(key);

        // ADD to a string set and nothing else: the record version number is untouched, so the holder's next heartbeat
        // (conditioned on it) still succeeds. The condition keeps the write from creating a half-record for a free key, and
        // from registering on a released record, which nobody will release again: that waiter is told the lock is free.
        var update = new UpdateBuilder(_options).Add(LockAttributes.Waiters, new AttributeValue { SS = [waiter] });
        var released = update.Name(LockAttributes.IsReleased);
        var write = update.ToRequest(
            attributes,
            $"attribute_exists({update.Name(_options.PartitionKeyName)}) AND (attribute_not_exists({released}) OR {released} <> {update.Value(Released)})");

        // A failed condition means there is no held record; the item would tell nothing more.
        write.ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.NONE;
        try
        {
            await _client.UpdateItemAsync(write, cancellationToken).ConfigureAwait(false);
            return WaiterRegistration.Registered;
        }
        catch (ConditionalCheckFailedException)
        {
            return WaiterRegistration.LockFree;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not LockTableException)
        {
            // Unlike the lock writes, an unknown outcome needs no read-back: adding to a set is idempotent, so the SDK's
            // retries and the caller's (after the LockTableUnavailableException this gives for transient failures) are safe.
            // At worst a late retry registers the waiter with the next holder, which costs one needless notice.
            throw Translate("AddWaiter", e);
        }
    }

    /// <inheritdoc />
    public async Task<LockRecord?> ReadAsync(LockKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var attributes = KeyAttributes(key);
        try
        {
            var response = await _client.GetItemAsync(
                new GetItemRequest { TableName = _options.TableName, Key = attributes, ConsistentRead = true },
                cancellationToken).ConfigureAwait(false);
            return response.Item is { Count: > 0 } item ? ToRecord(item) : null;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not LockTableException)
        {
            throw Translate("Read", e);
        }
    }

    /// <inheritdoc />
    public async Task<LockPage> ListAsync(ListLocksRequest request, CancellationToken cancellationToken = default)
    {
        LockValidation.Validate(request);
        var start = request.ContinuationToken is null ? null : DecodeToken(request.ContinuationToken);
        try
        {
            List<Dictionary<string, AttributeValue>>? items;
            Dictionary<string, AttributeValue>? last;
            if (request.Key is not null)
            {
                var response = await _client.QueryAsync(
                    new QueryRequest
                    {
                        TableName = _options.TableName,
                        ConsistentRead = true,
                        Limit = request.PageSize,
                        ExclusiveStartKey = start,
                        KeyConditionExpression = "#pk = :pk",
                        ExpressionAttributeNames = new() { ["#pk"] = _options.PartitionKeyName },
                        ExpressionAttributeValues = new() { [":pk"] = new AttributeValue { S = request.Key } },
                    },
                    cancellationToken).ConfigureAwait(false);
                (items, last) = (response.Items, response.LastEvaluatedKey);
            }
            else
            {
                var response = await _client.ScanAsync(
                    new ScanRequest
                    {
                        TableName = _options.TableName,
                        ConsistentRead = true,
                        Limit = request.PageSize,
                        ExclusiveStartKey = start,
                    },
                    cancellationToken).ConfigureAwait(false);
                (items, last) = (response.Items, response.LastEvaluatedKey);
            }

            var records = items?.Select(ToRecord).ToList() ?? [];
            return new LockPage(records, last is { Count: > 0 } ? EncodeToken(last) : null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not LockTableException)
        {
            throw Translate("List", e);
        }
    }

    /// <summary>
    /// One page of the partition key values stored in the table, whatever the items are: unlike <see cref="ListAsync"/>,
    /// an item that is not a lock record (another application's, or another key schema's) is listed rather than failing
    /// the page. For <c>dynamolock selftest</c>, which must know whether anything but its own keys is in the table.
    /// </summary>
    /// <param name="pageSize">The most items the scan reads (1 to 1000).</param>
    /// <param name="continuationToken">The previous page's token, or <see langword="null"/> for the first page.</param>
    /// <param name="cancellationToken">Cancels the scan.</param>
    internal async Task<LockKeyPage> ListKeysAsync(int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);
        var start = continuationToken is null ? null : DecodeToken(continuationToken);
        try
        {
            // Only the partition key comes back: the check needs nothing else, and other items may be large.
            var response = await _client.ScanAsync(
                new ScanRequest
                {
                    TableName = _options.TableName,
                    ConsistentRead = true,
                    Limit = pageSize,
                    ExclusiveStartKey = start,
                    ProjectionExpression = "#pk",
                    ExpressionAttributeNames = new() { ["#pk"] = _options.PartitionKeyName },
                },
                cancellationToken).ConfigureAwait(false);
            var keys = response.Items?.Select(item => item.TryGetValue(_options.PartitionKeyName, out var value) ? value.S : null).ToList() ?? [];
            return new LockKeyPage(keys, response.LastEvaluatedKey is { Count: > 0 } last ? EncodeToken(last) : null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not LockTableException)
        {
            throw Translate("List", e);
        }
    }

    /// <summary>
    /// Deletes a record whoever holds it, without a condition. Only for keys the caller owns outright: <c>dynamolock
    /// selftest</c> removes the records under its own run's prefix with it. Deleting a record restarts its fencing tokens.
    /// </summary>
    internal async Task DeleteUnconditionallyAsync(LockKey key, CancellationToken cancellationToken)
    {
        var attributes = KeyAttributes(key);
        try
        {
            await _client.DeleteItemAsync(new DeleteItemRequest { TableName = _options.TableName, Key = attributes }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not LockTableException)
        {
            throw Translate("Delete", e);
        }
    }

    /// <inheritdoc />
    public async Task<EnsureTableResult> EnsureTableAsync(CancellationToken cancellationToken = default)
    {
        var created = false;
        try
        {
            TableDescription? table = null;
            try
            {
                table = (await _client.DescribeTableAsync(new DescribeTableRequest { TableName = _options.TableName }, cancellationToken).ConfigureAwait(false)).Table;
            }
            catch (ResourceNotFoundException)
            {
                await CreateTableAsync(cancellationToken).ConfigureAwait(false);
                created = true;
            }

            if (table is not null)
            {
                CheckKeySchema(table);
            }

            var deadline = _options.TimeProvider.GetTimestamp();
            while (table?.TableStatus != TableStatus.ACTIVE)
            {
                if (_options.TimeProvider.GetElapsedTime(deadline) > _options.TableCreationTimeout)
                {
                    throw new LockTableException($"DynamoDB table '{_options.TableName}' did not become ACTIVE within {HumanText.Duration(_options.TableCreationTimeout)} (status {table?.TableStatus}).");
                }

                if (table is not null)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                }

                table = (await _client.DescribeTableAsync(new DescribeTableRequest { TableName = _options.TableName }, cancellationToken).ConfigureAwait(false)).Table;
            }

            var ttl = await EnsureTimeToLiveAsync(enable: created, cancellationToken).ConfigureAwait(false);
            return new EnsureTableResult(_options.TableName, created, ttl);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not LockTableException)
        {
            throw Translate("EnsureTable", e);
        }
    }

    private async Task CreateTableAsync(CancellationToken cancellationToken)
    {
        var definitions = new List<AttributeDefinition> { new() { AttributeName = _options.PartitionKeyName, AttributeType = ScalarAttributeType.S } };
        var schema = new List<KeySchemaElement> { new() { AttributeName = _options.PartitionKeyName, KeyType = KeyType.HASH } };
        if (_options.SortKeyName is { } sortKey)
        {
            definitions.Add(new AttributeDefinition { AttributeName = sortKey, AttributeType = ScalarAttributeType.S });
            schema.Add(new KeySchemaElement { AttributeName = sortKey, KeyType = KeyType.RANGE });
        }

        try
        {
            await _client.CreateTableAsync(
                new CreateTableRequest
                {
                    TableName = _options.TableName,
                    AttributeDefinitions = definitions,
                    KeySchema = schema,
                    BillingMode = BillingMode.PAY_PER_REQUEST,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceInUseException)
        {
            // Someone else created it at the same moment; the wait for ACTIVE and the schema check still apply.
        }
    }

    private async Task<bool?> EnsureTimeToLiveAsync(bool enable, CancellationToken cancellationToken)
    {
        try
        {
            if (enable)
            {
                await _client.UpdateTimeToLiveAsync(
                    new UpdateTimeToLiveRequest
                    {
                        TableName = _options.TableName,
                        TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = LockAttributes.ExpiresAt, Enabled = true },
                    },
                    cancellationToken).ConfigureAwait(false);
                return true;
            }

            var description = await _client.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = _options.TableName }, cancellationToken).ConfigureAwait(false);
            var status = description.TimeToLiveDescription;
            return status?.AttributeName == LockAttributes.ExpiresAt
                && (status.TimeToLiveStatus == TimeToLiveStatus.ENABLED || status.TimeToLiveStatus == TimeToLiveStatus.ENABLING);
        }
        catch (AmazonDynamoDBException e) when (!IsTransient(e))
        {
            // Servers such as dynalite do not implement time-to-live; the lock protocol never depends on it.
            return null;
        }
    }

    private void CheckKeySchema(TableDescription table)
    {
        var hash = table.KeySchema?.FirstOrDefault(k => k.KeyType == KeyType.HASH)?.AttributeName;
        var range = table.KeySchema?.FirstOrDefault(k => k.KeyType == KeyType.RANGE)?.AttributeName;
        if (hash != _options.PartitionKeyName || range != _options.SortKeyName)
        {
            throw new LockTableConfigurationException(
                $"DynamoDB table '{_options.TableName}' has the key schema (partition key '{hash}', sort key '{range ?? "none"}') but the lock table is configured for " +
                $"(partition key '{_options.PartitionKeyName}', sort key '{_options.SortKeyName ?? "none"}'). Set PartitionKeyName/SortKeyName to match the table, or use another table.");
        }
    }

    private async Task<AcquireResult> AcquireAsync(AcquireLockRequest request, string? observedRecordVersionNumber, CancellationToken cancellationToken)
    {
        var key = KeyAttributes(request.Key);

        // One version for every attempt: a retry of a write that was applied finds the record carrying it, and knows it is ours.
        var newVersion = request.NewRecordVersionNumber ?? RecordVersionNumbers.Next();
        for (var attempt = 1; ; attempt++)
        {
            var update = new UpdateBuilder(_options)
                .Set(LockAttributes.OwnerName, new AttributeValue { S = request.OwnerName })
                .Set(LockAttributes.RecordVersionNumber, new AttributeValue { S = newVersion })
                .SetLease(request.LeaseDuration, request.SessionKey)
                .SetData(request.Data, onlyIfAbsent: !request.ReplaceData)
                .Remove(LockAttributes.IsReleased)
                .Add(LockAttributes.FencingToken, One);
            if (request.WaiterToRemove is { } waiter)
            {
                // In the granting write itself: a waiter that got the lock leaves the set at no extra cost.
                update.Delete(LockAttributes.Waiters, new AttributeValue { SS = [waiter] });
            }

            var condition = $"attribute_not_exists({update.Name(_options.PartitionKeyName)}) OR {update.Name(LockAttributes.IsReleased)} = {update.Value(Released)}";
            if (observedRecordVersionNumber is not null)
            {
                condition += $" OR {update.Name(LockAttributes.RecordVersionNumber)} = {update.Value(new AttributeValue { S = observedRecordVersionNumber })}";
            }

            var write = update.ToRequest(key, condition);
            write.ReturnValues = ReturnValue.ALL_NEW;
            var result = await WriteAsync<AcquireResult>(
                "Acquire",
                request.Key,
                async () => new AcquireResult.Granted(ToRecord((await _client.UpdateItemAsync(write, cancellationToken).ConfigureAwait(false)).Attributes)),
                current => current switch
                {
                    // Our own write, applied by an earlier attempt (ours or an SDK retry): the lock is ours.
                    { IsHeld: true } when current.IsWrittenBy(request.OwnerName, newVersion) => new AcquireResult.Granted(current),
                    { IsHeld: true } => new AcquireResult.Held(current),

                    // Freed between the failed write and the read: try again.
                    _ => null,
                },
                current => current is null || current.IsReleased,
                cancellationToken).ConfigureAwait(false);
            if (result is not null)
            {
                return result;
            }

            if (attempt >= MaxFreeRaceRetries)
            {
                throw new LockTableUnavailableException($"Acquire of {HumanText.Key(request.Key.ToString())} on DynamoDB table '{_options.TableName}' kept racing with other writers; try again.");
            }
        }
    }

    /// <summary>
    /// The one place a write's outcome is settled. A failed condition is read from the item DynamoDB returns with it (or
    /// one consistent read where the server does not return it); a failure that may or may not have been applied (a
    /// timeout, a dropped connection, a 5xx, an SDK retry of an applied write) is settled by reading the record back.
    /// Either way <paramref name="settle"/> reads the record: a record carrying this write's version number is this
    /// write, applied. When the read shows the write was not applied (<paramref name="notApplied"/>), the caller may retry
    /// it, with the same version number, after the <see cref="LockTableUnavailableException"/>.
    /// </summary>
    private async Task<T?> WriteAsync<T>(
        string operation,
        LockKey key,
        Func<Task<T>> write,
        Func<LockRecord?, T?> settle,
        Func<LockRecord?, bool> notApplied,
        CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException e)
        {
            return settle(await CurrentAfterFailedConditionAsync(e, key, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (MayHaveBeenApplied(e, cancellationToken))
        {
            var current = await ReadToResolveAsync(key, operation, e, cancellationToken).ConfigureAwait(false);
            if (notApplied(current))
            {
                throw Unavailable(operation, e);
            }

            return settle(current);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Translate(operation, e);
        }
    }

    private string HeldByCondition(UpdateBuilder update, string ownerName, string recordVersionNumber) =>
        $"{update.Name(LockAttributes.RecordVersionNumber)} = {update.Value(new AttributeValue { S = recordVersionNumber })} AND " +
        $"{update.Name(LockAttributes.OwnerName)} = {update.Value(new AttributeValue { S = ownerName })}";

    private async Task<LockRecord?> CurrentAfterFailedConditionAsync(ConditionalCheckFailedException e, LockKey key, CancellationToken cancellationToken)
    {
        // DynamoDB returns the item with the failed condition (ReturnValuesOnConditionCheckFailure=ALL_OLD); servers that
        // ignore that option cost one consistent read.
        if (e.Item is { Count: > 0 } item)
        {
            return ToRecord(item);
        }

        return await ReadAsync(key, cancellationToken).ConfigureAwait(false);
    }

    private async Task<LockRecord?> ReadToResolveAsync(LockKey key, string operation, Exception original, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (LockTableException e) when (e.IsTransient)
        {
            throw new LockTableUnavailableException(
                $"{operation} of {HumanText.Key(key.ToString())} on DynamoDB table '{_options.TableName}' has an unknown outcome ({original.Message}) and the record could not be read to resolve it ({e.Message}).",
                original)
            {
                OutcomeUnknown = true,
            };
        }
    }

    private Dictionary<string, AttributeValue> KeyAttributes(LockKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var attributes = new Dictionary<string, AttributeValue>(2) { [_options.PartitionKeyName] = new AttributeValue { S = key.Key } };
        if (_options.SortKeyName is { } sortKeyName)
        {
            if (key.SortKey is null)
            {
                throw new ArgumentException($"DynamoDB table '{_options.TableName}' is configured with the sort key '{sortKeyName}': the lock key '{key.Key}' must carry a sortKey.", nameof(key));
            }

            attributes[sortKeyName] = new AttributeValue { S = key.SortKey };
        }
        else if (key.SortKey is not null)
        {
            throw new ArgumentException($"DynamoDB table '{_options.TableName}' is configured without a sort key (SortKeyName): the lock key '{key.Key}' must not carry a sortKey.", nameof(key));
        }

        return attributes;
    }

    /// <summary>The record a heartbeat left, from the attributes it updated (UPDATED_NEW) and what the request says; data not read back.</summary>
    private static LockRecord ToRenewedRecord(HeartbeatLockRequest request, string newVersion, Dictionary<string, AttributeValue> updated)
    {
        long? Number(string name) =>
            updated.TryGetValue(name, out var value) && value.N is { } n && long.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;

        return new LockRecord(request.Key, request.OwnerName, newVersion, Number(LockAttributes.FencingToken) ?? 0)
        {
            LeaseDuration = request.SessionKey is null ? request.LeaseDuration : LockSessions.HeldLeaseDuration,
            SessionKey = request.SessionKey,
            HeartbeatAt = Number(LockAttributes.HeartbeatAt) is { } heartbeat ? DateTimeOffset.FromUnixTimeMilliseconds(heartbeat) : null,
            ExpiresAt = Number(LockAttributes.ExpiresAt) is { } expires ? DateTimeOffset.FromUnixTimeSeconds(expires) : null,
        };
    }

    private LockRecord ToRecord(Dictionary<string, AttributeValue> item)
    {
        string? Text(string name) => item.TryGetValue(name, out var value) ? value.S : null;
        long? Number(string name) =>
            item.TryGetValue(name, out var value) && value.N is { } n && long.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;

        var partitionKey = Text(_options.PartitionKeyName);
        var owner = Text(LockAttributes.OwnerName);
        var version = Text(LockAttributes.RecordVersionNumber);
        if (partitionKey is null || owner is null || version is null)
        {
            throw new LockTableException(
                $"A record in DynamoDB table '{_options.TableName}' (key {HumanText.Key(partitionKey)}) is not a lock record: it lacks " +
                $"{(partitionKey is null ? _options.PartitionKeyName : owner is null ? LockAttributes.OwnerName : LockAttributes.RecordVersionNumber)}.");
        }

        var sortKey = _options.SortKeyName is { } sortKeyName ? Text(sortKeyName) : null;
        TimeSpan? lease = Text(LockAttributes.LeaseDuration) is { } ms && long.TryParse(ms, NumberStyles.Integer, CultureInfo.InvariantCulture, out var leaseMs)
            ? TimeSpan.FromMilliseconds(leaseMs)
            : null;
        ReadOnlyMemory<byte> data = item.TryGetValue(LockAttributes.Data, out var dataValue) && dataValue.B is { } stream ? stream.ToArray() : ReadOnlyMemory<byte>.Empty;
        return new LockRecord(new LockKey(partitionKey, sortKey), owner, version, Number(LockAttributes.FencingToken) ?? 0)
        {
            LeaseDuration = lease,
            IsReleased = Text(LockAttributes.IsReleased) == LockAttributes.IsReleasedValue,
            SessionKey = Text(LockAttributes.SessionKey),
            Waiters = WaitersIn(item),
            Data = data,
            HeartbeatAt = Number(LockAttributes.HeartbeatAt) is { } heartbeat ? DateTimeOffset.FromUnixTimeMilliseconds(heartbeat) : null,
            ExpiresAt = Number(LockAttributes.ExpiresAt) is { } expires ? DateTimeOffset.FromUnixTimeSeconds(expires) : null,
        };
    }

    /// <summary>The waiters in an item or a write's returned attributes; empty when the attribute is absent.</summary>
    private static LockWaiters WaitersIn(Dictionary<string, AttributeValue>? attributes) =>
        attributes is not null && attributes.TryGetValue(LockAttributes.Waiters, out var value) ? LockWaiters.From(value.SS) : LockWaiters.Empty;

    /// <summary>
    /// Whether a failed write may still have been applied: everything but a definite rejection (a 4xx answer). Timeouts,
    /// dropped connections and 5xx answers are ambiguous.
    /// </summary>
    private static bool MayHaveBeenApplied(Exception e, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || e is LockTableException or ArgumentException)
        {
            return false;
        }

        if (e is AmazonServiceException service)
        {
            return (int)service.StatusCode >= 500 || service.StatusCode == 0;
        }

        // The SDK failing with nothing underneath (no credentials, no region) never sent the request.
        return e is not AmazonClientException { InnerException: null };
    }

    private static bool IsTransient(AmazonServiceException e) =>
        (int)e.StatusCode >= 500
        || e is ProvisionedThroughputExceededException or RequestLimitExceededException or InternalServerErrorException
        || e.ErrorCode is "ThrottlingException" or "ProvisionedThroughputExceededException" or "RequestLimitExceeded" or "ServiceUnavailable" or "TransactionConflictException"
        || e.StatusCode == HttpStatusCode.TooManyRequests;

    private LockTableUnavailableException Unavailable(string operation, Exception e) =>
        new($"{operation} on DynamoDB table '{_options.TableName}' failed transiently: {e.Message}", e);

    private Exception Translate(string operation, Exception e) => e switch
    {
        LockTableException or ArgumentException or OperationCanceledException when e is not TaskCanceledException => e,
        ResourceNotFoundException => new LockTableNotFoundException(
            _options.TableName,
            $"DynamoDB table '{_options.TableName}' does not exist (in the configured region/endpoint). Create it with `dynamolock create-table --table {_options.TableName}`, " +
            $"call EnsureTableAsync, or create a table with partition key '{_options.PartitionKeyName}' (S){(_options.SortKeyName is { } sk ? $" and sort key '{sk}' (S)" : string.Empty)}.",
            e),
        AmazonServiceException service when IsTransient(service) => Unavailable(operation, e),
        AmazonServiceException service when IsAccessDenied(service) => new LockTableConfigurationException(
            $"{operation} on DynamoDB table '{_options.TableName}' was refused ({service.ErrorCode}): {FirstLine(service.Message)} " +
            "Check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the instance role) and that they allow the table's actions.",
            e),
        // Every request this adapter sends is well formed for the configured schema: a validation error means the table's
        // key schema differs from the settings.
        AmazonServiceException { ErrorCode: "ValidationException" } service =>
            new LockTableConfigurationException(
                $"{operation} on DynamoDB table '{_options.TableName}' was rejected: {service.Message}. Check that the table's key schema is partition key " +
                $"'{_options.PartitionKeyName}' (S){(_options.SortKeyName is { } sk2 ? $" and sort key '{sk2}' (S)" : string.Empty)}.",
                e),
        AmazonServiceException service => new LockTableException($"{operation} on DynamoDB table '{_options.TableName}' was rejected ({service.ErrorCode}): {service.Message}", e),

        // The SDK failed before sending anything, with nothing underneath: no credentials could be resolved, or no region
        // or endpoint is configured. Network failures carry their cause (HttpRequestException, IOException, timeouts).
        AmazonClientException { InnerException: null } client => new LockTableConfigurationException(
            $"{operation} on DynamoDB table '{_options.TableName}' could not be sent: {FirstLine(client.Message)} " +
            "Set AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and a region (AWS_REGION), " +
            "or point at a local server with AWS_ENDPOINT_URL_DYNAMODB.",
            e),
        _ => Unavailable(operation, e),
    };

    /// <summary>Answers that mean the caller is not allowed in: missing, invalid, expired or insufficient credentials.</summary>
    private static bool IsAccessDenied(AmazonServiceException e) =>
        e.StatusCode == HttpStatusCode.Forbidden
        || e.ErrorCode is "AccessDeniedException" or "UnrecognizedClientException" or "InvalidSignatureException" or "MissingAuthenticationTokenException"
            or "ExpiredTokenException" or "IncompleteSignatureException" or "InvalidClientTokenId" or "SignatureDoesNotMatch";

    /// <summary>The first sentence of an SDK message, for one-line errors (the SDK's own messages run to many lines).</summary>
    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        var line = (end >= 0 ? message[..end] : message).Trim();
        var sentence = line.IndexOf(". ", StringComparison.Ordinal);
        line = (sentence >= 0 ? line[..sentence] : line).TrimEnd('.', ':', ' ');
        return line + ".";
    }

    private static string EncodeToken(Dictionary<string, AttributeValue> lastEvaluatedKey) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(lastEvaluatedKey.ToDictionary(p => p.Key, p => p.Value.S)));

    private static Dictionary<string, AttributeValue> DecodeToken(string token)
    {
        try
        {
            var parts = JsonSerializer.Deserialize<Dictionary<string, string>>(Convert.FromBase64String(token));
            if (parts is { Count: > 0 })
            {
                return parts.ToDictionary(p => p.Key, p => new AttributeValue { S = p.Value });
            }
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
        }

        throw new ArgumentException("continuationToken is not a token returned by this table's ListAsync.", "continuationToken");
    }

    /// <summary>Builds an update expression with placeholder names and values, so attribute names never clash with reserved words.</summary>
    private sealed class UpdateBuilder(DynamoDbLockTableOptions options)
    {
        private readonly List<string> _set = [];
        private readonly List<string> _remove = [];
        private readonly List<string> _add = [];
        private readonly List<string> _delete = [];

        public Dictionary<string, string> Names { get; } = [];

        public Dictionary<string, AttributeValue> Values { get; } = [];

        public string Name(string attribute)
        {
            var placeholder = "#" + attribute switch
            {
                _ when attribute == options.PartitionKeyName => "pk",
                _ => attribute,
            };
            Names[placeholder] = attribute;
            return placeholder;
        }

        public string Value(AttributeValue value)
        {
            var placeholder = ":v" + Values.Count.ToString(CultureInfo.InvariantCulture);
            Values[placeholder] = value;
            return placeholder;
        }

        public UpdateBuilder Set(string attribute, AttributeValue value)
        {
            _set.Add($"{Name(attribute)} = {Value(value)}");
            return this;
        }

        public UpdateBuilder Remove(string attribute)
        {
            _remove.Add(Name(attribute));
            return this;
        }

        public UpdateBuilder Add(string attribute, AttributeValue value)
        {
            _add.Add($"{Name(attribute)} {Value(value)}");
            return this;
        }

        /// <summary>Removes the members of <paramref name="value"/> from a set attribute (a no-op when it has none of them).</summary>
        public UpdateBuilder Delete(string attribute, AttributeValue value)
        {
            _delete.Add($"{Name(attribute)} {Value(value)}");
            return this;
        }

        /// <summary>
        /// Sets the lease (or removes it for fail-closed locks), the session the lock is held under (or removes it), and the
        /// display/TTL timestamps. A session-held record stores <see cref="LockSessions.HeldLeaseDuration"/>, so that neither a
        /// session-unaware client nor DynamoDB's time-to-live ever treats it as abandoned: it is never rewritten while held.
        /// </summary>
        public UpdateBuilder SetLease(TimeSpan? lease, string? sessionKey)
        {
            var now = options.TimeProvider.GetUtcNow();
            if (sessionKey is not null)
            {
                lease = LockSessions.HeldLeaseDuration;
                Set(LockAttributes.SessionKey, new AttributeValue { S = sessionKey });
            }
            else
            {
                Remove(LockAttributes.SessionKey);
            }

            Set(LockAttributes.HeartbeatAt, new AttributeValue { N = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) });
            if (lease is { } value)
            {
                Set(LockAttributes.LeaseDuration, new AttributeValue { S = ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) });
            }
            else
            {
                Remove(LockAttributes.LeaseDuration);
            }

            if (options.RecordTimeToLive is { } ttl)
            {
                var expires = now + (lease ?? TimeSpan.Zero) + ttl;
                Set(LockAttributes.ExpiresAt, new AttributeValue { N = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) });
            }

            return this;
        }

        public UpdateBuilder SetData(byte[]? data, bool onlyIfAbsent = false)
        {
            if (data is { Length: > 0 } && onlyIfAbsent)
            {
                var name = Name(LockAttributes.Data);
                _set.Add($"{name} = if_not_exists({name}, {Value(new AttributeValue { B = new MemoryStream(data, writable: false) })})");
            }
            else if (data is { } bytes && !onlyIfAbsent)
            {
                if (bytes.Length == 0)
                {
                    // DynamoDB rejects empty binary values; storing "no data" removes the attribute.
                    Remove(LockAttributes.Data);
                }
                else
                {
                    Set(LockAttributes.Data, new AttributeValue { B = new MemoryStream(bytes, writable: false) });
                }
            }

            return this;
        }

        public UpdateItemRequest ToRequest(Dictionary<string, AttributeValue> key, string condition)
        {
            var expression = string.Join(
                ' ',
                new[] { (Verb: "SET", Parts: _set), (Verb: "REMOVE", Parts: _remove), (Verb: "ADD", Parts: _add), (Verb: "DELETE", Parts: _delete) }
                    .Where(clause => clause.Parts.Count > 0)
                    .Select(clause => clause.Verb + " " + string.Join(", ", clause.Parts)));
            return new UpdateItemRequest
            {
                TableName = options.TableName,
                Key = key,
                UpdateExpression = expression,
                ConditionExpression = condition,
                ExpressionAttributeNames = Names,
                ExpressionAttributeValues = Values,
                ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
            };
        }
    }
}
