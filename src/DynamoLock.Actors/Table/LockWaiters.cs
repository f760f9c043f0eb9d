using System.Collections;

namespace DynamoLock.Actors.Table;

/// <summary>
/// The set of nodes waiting for a lock (<see cref="LockRecord.Waiters"/>): an immutable, ordinal set of strings that
/// compares by content, so that records (and release results) carrying the same waiters are equal, as they are for every
/// other attribute. Never part of a safety decision: the set is a hint for notices.
/// </summary>
internal sealed class LockWaiters : IReadOnlySet<string>
{
    /// <summary>The empty set, shared by every record without waiters.</summary>
    public static readonly LockWaiters Empty = new(new HashSet<string>(StringComparer.Ordinal));

    private readonly HashSet<string> _set;

    private LockWaiters(HashSet<string> set) => _set = set;

    /// <inheritdoc />
    public int Count => _set.Count;

    /// <summary>
    /// The set holding <paramref name="waiters"/>; a <see cref="LockWaiters"/> is returned as it is. Null entries are
    /// dropped: DynamoDB string sets cannot hold them.
    /// </summary>
    public static LockWaiters From(IEnumerable<string?>? waiters)
    {
        if (waiters is LockWaiters same)
        {
            return same;
        }

        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var waiter in waiters ?? [])
        {
            if (waiter is not null)
            {
                set.Add(waiter);
            }
        }

        return set.Count == 0 ? Empty : new LockWaiters(set);
    }

    /// <summary>This set with <paramref name="waiter"/> added (itself when it is already there).</summary>
    public LockWaiters With(string waiter) => _set.Contains(waiter) ? this : From(_set.Append(waiter));

    /// <summary>This set without <paramref name="waiter"/> (itself when it is not there, or when it is <see langword="null"/>).</summary>
    public LockWaiters Without(string? waiter) => waiter is null || !_set.Contains(waiter) ? this : From(_set.Where(w => !string.Equals(w, waiter, StringComparison.Ordinal)));

    /// <inheritdoc />
    public bool Contains(string item) => _set.Contains(item);

    /// <inheritdoc />
    public bool IsProperSubsetOf(IEnumerable<string> other) => _set.IsProperSubsetOf(other);

    /// <inheritdoc />
    public bool IsProperSupersetOf(IEnumerable<string> other) => _set.IsProperSupersetOf(other);

    /// <inheritdoc />
    public bool IsSubsetOf(IEnumerable<string> other) => _set.IsSubsetOf(other);

    /// <inheritdoc />
    public bool IsSupersetOf(IEnumerable<string> other) => _set.IsSupersetOf(other);

    /// <inheritdoc />
    public bool Overlaps(IEnumerable<string> other) => _set.Overlaps(other);

    /// <inheritdoc />
    public bool SetEquals(IEnumerable<string> other) => _set.SetEquals(other);

    /// <inheritdoc />
    public IEnumerator<string> GetEnumerator() => _set.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Equal to another <see cref="LockWaiters"/> with the same members.</summary>
    public override bool Equals(object? obj) => obj is LockWaiters other && (ReferenceEquals(this, other) || _set.SetEquals(other._set));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        // Order-independent, like the equality above.
        var hash = _set.Count;
        foreach (var waiter in _set)
        {
            hash ^= StringComparer.Ordinal.GetHashCode(waiter);
        }

        return hash;
    }

    /// <summary>The members in ordinal order, for messages and the records' printed form.</summary>
    public override string ToString() => "[" + string.Join(", ", _set.Order(StringComparer.Ordinal)) + "]";
}
