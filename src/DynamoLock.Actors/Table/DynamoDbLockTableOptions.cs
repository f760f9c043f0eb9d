namespace DynamoLock.Actors.Table;

/// <summary>Where and how <see cref="DynamoDbLockTable"/> stores lock records.</summary>
/// <remarks>
/// The defaults give a table compatible with awslabs/amazon-dynamodb-lock-client: partition key <c>key</c> (string),
/// no sort key, and the attributes <c>ownerName</c>, <c>recordVersionNumber</c>, <c>leaseDuration</c>, <c>isReleased</c>
/// and <c>data</c>; this library adds <c>fencingToken</c>, <c>heartbeatAt</c> and, optionally, <c>expiresAt</c>.
/// </remarks>
public sealed record DynamoDbLockTableOptions
{
    /// <summary>The default table name.</summary>
    public const string DefaultTableName = "dynamolock";

    /// <summary>The table name. Default <c>dynamolock</c>.</summary>
    public string TableName { get; init; } = DefaultTableName;

    /// <summary>The partition key attribute (type S). Default <c>key</c>, as the Java lock client uses.</summary>
    public string PartitionKeyName { get; init; } = "key";

    /// <summary>The sort key attribute (type S), for tables shared by several lock families; <see langword="null"/> (default) for none.</summary>
    public string? SortKeyName { get; init; }

    /// <summary>
    /// When set, every write stores <c>expiresAt</c> = now + lease + this value (epoch seconds), so DynamoDB's
    /// time-to-live can delete records of locks abandoned for good. Never read for safety. Deleting a record restarts
    /// its fencing tokens, so pick a value far longer than any pause a holder could survive. Default: not written.
    /// </summary>
    public TimeSpan? RecordTimeToLive { get; init; }

    /// <summary>How long <see cref="ILockTable.EnsureTableAsync"/> waits for a new table to become active. Default 2 minutes.</summary>
    public TimeSpan TableCreationTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The wall clock for the display-only <c>heartbeatAt</c> and for <c>expiresAt</c>. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Checks the options, naming the setting that is wrong.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public DynamoDbLockTableOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(TableName) || TableName.Length is < 3 or > 255)
        {
            throw new ArgumentException($"TableName must be 3 to 255 characters long (got '{TableName}').", nameof(TableName));
        }

        if (string.IsNullOrWhiteSpace(PartitionKeyName))
        {
            throw new ArgumentException("PartitionKeyName must not be empty.", nameof(PartitionKeyName));
        }

        if (SortKeyName is not null && (SortKeyName.Length == 0 || SortKeyName == PartitionKeyName))
        {
            throw new ArgumentException($"SortKeyName must be null or a non-empty name other than PartitionKeyName (got '{SortKeyName}').", nameof(SortKeyName));
        }

        if (RecordTimeToLive is { } ttl && ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RecordTimeToLive), ttl, "RecordTimeToLive must be positive when set.");
        }

        if (TableCreationTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TableCreationTimeout), TableCreationTimeout, "TableCreationTimeout must be positive.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        return this;
    }
}
