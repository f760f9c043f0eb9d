using DynamoLock.Actors.Table;

namespace DynamoLock.Actors;

/// <summary>The one place that turns table failures into refusal kinds, and refusal kinds into the facade's exceptions.</summary>
internal static class LockRefusals
{
    /// <summary>The kind of refusal a failed table call causes.</summary>
    public static LockRefusalKind KindOf(Exception error) => error switch
    {
        LockTableNotFoundException => LockRefusalKind.TableMissing,
        LockTableConfigurationException => LockRefusalKind.Misconfigured,
        LockTableException { IsTransient: false } => LockRefusalKind.TableError,
        ArgumentException => LockRefusalKind.InvalidRequest,
        _ => LockRefusalKind.TableUnavailable,
    };

    /// <summary>Whether the kind means the lock is taken (or the wait for it ran out): contention, not a failure.</summary>
    public static bool IsContention(LockRefusalKind kind) => kind is LockRefusalKind.HeldElsewhere or LockRefusalKind.WaitTimedOut;

    /// <summary>
    /// The exception the facade throws for a refusal that is not contention: <see cref="ArgumentException"/> for bad
    /// input, a <see cref="LockTableException"/> subtype for table kinds, <see cref="OperationCanceledException"/> for a
    /// cancellation and <see cref="InvalidOperationException"/> while shutting down.
    /// </summary>
    public static Exception ToException(string key, LockRefusalKind kind, string reason, Exception? cause)
    {
        var message = $"Lock {HumanText.Key(key)}: {HumanText.Uncapitalised(reason)}";
        return kind switch
        {
            LockRefusalKind.HeldElsewhere or LockRefusalKind.WaitTimedOut => new TimeoutException(message),
            LockRefusalKind.InvalidRequest => new ArgumentException(message),
            LockRefusalKind.TableMissing => new LockTableNotFoundException((cause as LockTableNotFoundException)?.TableName ?? string.Empty, message, cause),
            LockRefusalKind.Misconfigured => new LockTableConfigurationException(message, cause),
            LockRefusalKind.TableUnavailable => new LockTableUnavailableException(message, cause),
            LockRefusalKind.TableError => new LockTableException(message, cause),
            LockRefusalKind.Cancelled => new OperationCanceledException(message),
            LockRefusalKind.ShuttingDown => new InvalidOperationException(message),
            _ => new InvalidOperationException(message),
        };
    }
}
