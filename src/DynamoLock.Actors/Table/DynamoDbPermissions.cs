namespace DynamoLock.Actors.Table;

/// <summary>
/// The IAM actions <see cref="DynamoDbLockTable"/> needs on the lock table: the one list of every DynamoDB operation this
/// library sends. <c>dynamolock iam-policy</c> renders it, and a test runs every method of <see cref="ILockTable"/>
/// against a local server and checks that the requests it counts are exactly these.
/// </summary>
/// <remarks>
/// Everything the library does with DynamoDB goes through <see cref="DynamoDbLockTable"/>: lock managers, sessions (their
/// records are lock records), the lease and the tool's commands. The adapter never names an index, so the actions are
/// granted on the table's ARN alone. Add an action here in the same change that makes the adapter send it.
/// </remarks>
internal static class DynamoDbPermissions
{
    /// <summary>
    /// What a running node (lock manager, lease, sessions) and the tool's lock commands call: every method of
    /// <see cref="ILockTable"/> but <see cref="ILockTable.EnsureTableAsync"/>.
    /// </summary>
    public static IReadOnlyList<string> RuntimeActions { get; } =
    [
        // TryAcquireAsync, TakeOverAsync, HeartbeatAsync (renewal, data, hand-off) and ReleaseAsync (record kept): each one
        // conditional write.
        "dynamodb:UpdateItem",

        // ReleaseAsync with DeleteRecord (delete-on-release, the demo's clean-up).
        "dynamodb:DeleteItem",

        // ReadAsync; also inside every write: the holder after a failed condition where the server does not return it,
        // and the read-back that settles a write with an unknown outcome.
        "dynamodb:GetItem",

        // ListAsync of one partition key.
        "dynamodb:Query",

        // ListAsync of every record (dynamolock list and watch, list --sessions).
        "dynamodb:Scan",
    ];

    /// <summary>
    /// What <see cref="ILockTable.EnsureTableAsync"/> calls (<c>dynamolock create-table</c>, <c>ensure-table = on</c>), on
    /// top of <see cref="RuntimeActions"/>: only whoever creates or checks the table needs them.
    /// </summary>
    public static IReadOnlyList<string> TableSetupActions { get; } =
    [
        // EnsureTableAsync: whether the table exists, its key schema, and (after creating it) when it is ACTIVE.
        "dynamodb:DescribeTable",

        // EnsureTableAsync when the table is missing (CreateTableAsync).
        "dynamodb:CreateTable",

        // EnsureTableAsync after creating the table: time-to-live on expiresAt (EnsureTimeToLiveAsync).
        "dynamodb:UpdateTimeToLive",

        // EnsureTableAsync on an existing table: reports whether time-to-live is on (EnsureTimeToLiveAsync).
        "dynamodb:DescribeTimeToLive",
    ];
}
