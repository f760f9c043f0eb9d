namespace DynamoLock.Actors;

/// <summary>Thrown by <see cref="DynamoLockClient.AcquireAsync"/> when the lock was not acquired within the wait.</summary>
public sealed class LockNotAcquiredException : TimeoutException
{
    /// <summary>Creates the exception from the manager's answer.</summary>
    public LockNotAcquiredException(LockNotAcquired answer)
        : base($"Lock '{answer.Key}' was not acquired: {answer.Reason}")
    {
        Key = answer.Key;
        Reason = answer.Reason;
        CurrentOwner = answer.CurrentOwner;
    }

    /// <summary>The lock name.</summary>
    public string Key { get; }

    /// <summary>Why it was not acquired.</summary>
    public string Reason { get; }

    /// <summary>The owner name of the holder, when known.</summary>
    public string? CurrentOwner { get; }
}
