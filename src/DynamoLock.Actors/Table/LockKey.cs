using System.Text;

namespace DynamoLock.Actors.Table;

/// <summary>
/// Identifies one lock record: the partition key value and, for tables shared by several lock families,
/// the sort key value.
/// </summary>
/// <remarks>
/// Keys are opaque strings compared ordinally. Any characters are allowed (lease names from Akka's cluster tools
/// contain <c>/</c> and <c>:</c>); only the DynamoDB size limits apply.
/// </remarks>
public sealed record LockKey
{
    /// <summary>The largest partition key value DynamoDB accepts, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 2048;

    /// <summary>The largest sort key value DynamoDB accepts, in UTF-8 bytes.</summary>
    public const int MaxSortKeyBytes = 1024;

    /// <summary>Creates a key, validating it against DynamoDB's limits.</summary>
    /// <param name="key">The lock name (partition key value), 1 to 2048 UTF-8 bytes.</param>
    /// <param name="sortKey">The sort key value, 1 to 1024 UTF-8 bytes, or <see langword="null"/> for tables without a sort key.</param>
    /// <exception cref="ArgumentException">The key or sort key is empty or too long.</exception>
    public LockKey(string key, string? sortKey = null)
    {
        Key = ValidateKey(key, nameof(key), MaxKeyBytes);
        SortKey = sortKey is null ? null : ValidateKey(sortKey, nameof(sortKey), MaxSortKeyBytes);
    }

    /// <summary>The lock name: the partition key value.</summary>
    public string Key { get; }

    /// <summary>The sort key value, or <see langword="null"/> when the table has no sort key.</summary>
    public string? SortKey { get; }

    /// <inheritdoc />
    public override string ToString() => SortKey is null ? Key : $"{Key} [{SortKey}]";

    /// <summary>Checks a lock name without building a key; returns the name for chaining.</summary>
    /// <exception cref="ArgumentException">The name is null, empty or longer than 2048 UTF-8 bytes.</exception>
    public static string ValidateKey(string? value, string parameterName, int maxBytes = MaxKeyBytes)
    {
        if (value is null)
        {
            throw new ArgumentNullException(parameterName, $"The lock {parameterName} must not be null.");
        }

        if (value.Length == 0)
        {
            throw new ArgumentException($"The lock {parameterName} must not be empty.", parameterName);
        }

        // Length in chars is a lower bound of the UTF-8 length; only count bytes when it could matter.
        if (value.Length * 3 > maxBytes)
        {
            var bytes = Encoding.UTF8.GetByteCount(value);
            if (bytes > maxBytes)
            {
                throw new ArgumentException(
                    $"The lock {parameterName} is {bytes} UTF-8 bytes long; DynamoDB allows at most {maxBytes}.",
                    parameterName);
            }
        }

        return value;
    }
}
