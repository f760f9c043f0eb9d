namespace DynamoLock.Actors.Table;

/// <summary>The lock record's attribute names, compatible with awslabs/amazon-dynamodb-lock-client.</summary>
internal static class LockAttributes
{
    /// <summary>The holder's identity (S).</summary>
    public const string OwnerName = "ownerName";

    /// <summary>A fresh random UUID on every write (S).</summary>
    public const string RecordVersionNumber = "recordVersionNumber";

    /// <summary>The lease in milliseconds as a decimal string (S); absent for fail-closed locks.</summary>
    public const string LeaseDuration = "leaseDuration";

    /// <summary>Present with the value <c>"1"</c> (S) when the lock was released and its record kept.</summary>
    public const string IsReleased = "isReleased";

    /// <summary>The value of <see cref="IsReleased"/>.</summary>
    public const string IsReleasedValue = "1";

    /// <summary>Optional user data (B).</summary>
    public const string Data = "data";

    /// <summary>Incremented by every acquisition (N).</summary>
    public const string FencingToken = "fencingToken";

    /// <summary>Epoch seconds for DynamoDB time-to-live (N); never read for safety.</summary>
    public const string ExpiresAt = "expiresAt";

    /// <summary>The holder's wall clock at its last write, epoch milliseconds (N); for display only.</summary>
    public const string HeartbeatAt = "heartbeatAt";

    /// <summary>The key of the session a lock is held under (session mode); absent for locks heartbeated on their own.</summary>
    public const string SessionKey = "sessionKey";

    /// <summary>
    /// The nodes waiting for the lock (SS), for notices: added to without changing the record version number, cleared by a
    /// release; absent when nobody waits (DynamoDB stores no empty sets). Never read for safety.
    /// </summary>
    public const string Waiters = "waiters";
}
