namespace DynamoLock.Actors.Table;

/// <summary>One page of the partition key values stored in a table, lock records or not.</summary>
/// <param name="Keys">The partition key value of each item read; <see langword="null"/> for an item that lacks it (another key schema).</param>
/// <param name="ContinuationToken">Pass to the next request for the next page; <see langword="null"/> on the last page.</param>
internal sealed record LockKeyPage(IReadOnlyList<string?> Keys, string? ContinuationToken);
