namespace DynamoLock.Actors;

/// <summary>
/// Thrown by <see cref="DynamoLockClient.AcquireAsync"/> when the lock stayed held elsewhere until the wait ran out
/// (<see cref="LockRefusalKind.HeldElsewhere"/> or <see cref="LockRefusalKind.WaitTimedOut"/>). Every other refusal is
/// another exception: see <see cref="LockRefusalKind"/>.
/// </summary>
public sealed class LockNotAcquiredException : TimeoutException
{
    /// <summary>Creates the exception from the manager's answer.</summary>
    public LockNotAcquiredException(LockNotAcquired answer)
        : base($"Lock {HumanText.Key(answer?.Key)} was not acquired: {HumanText.Uncapitalised(answer?.Reason ?? string.Empty)}")
    {
        ArgumentNullException.ThrowIfNull(answer);
        Key = answer.Key;
        Kind = answer.Kind;
        Reason = answer.Reason;
        CurrentOwner = answer.CurrentOwner;
    }

    /// <summary>The lock name.</summary>
    public string Key { get; }

    /// <summary>Why it was not acquired, as a kind.</summary>
    public LockRefusalKind Kind { get; }

    /// <summary>Why it was not acquired, in words.</summary>
    public string Reason { get; }

    /// <summary>The owner name of the holder, when known.</summary>
    public string? CurrentOwner { get; }
}
