namespace DynamoLock.Actors.Table;

/// <summary>The lock table failed in a way that retrying will not fix (missing table, wrong schema, access denied, bad request).</summary>
public class LockTableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LockTableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Whether retrying the same call later may succeed.</summary>
    public virtual bool IsTransient => false;
}

/// <summary>The lock table does not exist.</summary>
public sealed class LockTableNotFoundException : LockTableException
{
    /// <summary>Creates the exception.</summary>
    public LockTableNotFoundException(string tableName, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        TableName = tableName;
    }

    /// <summary>The missing table.</summary>
    public string TableName { get; }
}

/// <summary>
/// A transient failure: throttling, a server error, a timeout or a dropped connection. The call may be retried.
/// When the write may have been applied, the adapter has already resolved the outcome by re-reading the record;
/// this exception means that resolution failed too.
/// </summary>
public sealed class LockTableUnavailableException : LockTableException
{
    /// <summary>Creates the exception.</summary>
    public LockTableUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <inheritdoc />
    public override bool IsTransient => true;

    /// <summary>
    /// Whether the write may have been applied: its answer was lost and the read that would have told failed too. Retry
    /// it as it is (the same request, with the same <c>NewRecordVersionNumber</c>) to learn its outcome; otherwise the
    /// write was not applied.
    /// </summary>
    public bool OutcomeUnknown { get; init; }
}

/// <summary>
/// The table cannot be called as configured: no AWS credentials were found, they were rejected or are not allowed to
/// call the table, no region or endpoint is set, or the table's key schema does not match the settings. Retrying will
/// not help; the message says what to set.
/// </summary>
public sealed class LockTableConfigurationException : LockTableException
{
    /// <summary>Creates the exception.</summary>
    public LockTableConfigurationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
