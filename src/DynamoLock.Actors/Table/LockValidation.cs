namespace DynamoLock.Actors.Table;

/// <summary>Up-front checks of lock inputs, with messages that name the offending setting.</summary>
internal static class LockValidation
{
    /// <summary>The longest lease accepted. Longer leases make an abandoned lock unusable for too long; use a fail-closed lock instead.</summary>
    public static readonly TimeSpan MaxLeaseDuration = TimeSpan.FromDays(7);

    /// <summary>
    /// The most bytes of user data stored with a lock. DynamoDB items are limited to 400 KB including attribute
    /// names and the other attributes; this leaves room for the largest keys and the protocol's attributes.
    /// </summary>
    public const int MaxDataBytes = 384 * 1024;

    /// <summary>The longest owner name accepted, in characters.</summary>
    public const int MaxOwnerNameLength = 1024;

    /// <summary>The longest waiter name accepted (<see cref="ILockTable.AddWaiterAsync"/>), in characters.</summary>
    public const int MaxWaiterLength = 1024;

    /// <summary>Checks a lease: at least 1 ms and at most <see cref="MaxLeaseDuration"/>; <see langword="null"/> (fail-closed) passes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The lease is out of range.</exception>
    public static TimeSpan? LeaseDuration(TimeSpan? lease, string settingName = "leaseDuration")
    {
        if (lease is not { } value)
        {
            return null;
        }

        if (value < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(settingName, value, $"{settingName} must be at least 1ms (got {HumanText.Duration(value)}).");
        }

        if (value > MaxLeaseDuration)
        {
            throw new ArgumentOutOfRangeException(
                settingName,
                value,
                $"{settingName} must be at most {HumanText.Duration(MaxLeaseDuration)} (got {HumanText.Duration(value)}); use a fail-closed lock for locks that must never expire.");
        }

        return value;
    }

    /// <summary>Checks an owner name: not empty, at most <see cref="MaxOwnerNameLength"/> characters.</summary>
    /// <exception cref="ArgumentException">The owner name is empty or too long.</exception>
    public static string OwnerName(string? ownerName, string settingName = "ownerName")
    {
        if (string.IsNullOrWhiteSpace(ownerName))
        {
            throw new ArgumentException($"{settingName} must not be empty.", settingName);
        }

        if (ownerName.Length > MaxOwnerNameLength)
        {
            throw new ArgumentException($"{settingName} is {ownerName.Length} characters long; at most {MaxOwnerNameLength} are allowed.", settingName);
        }

        return ownerName;
    }

    /// <summary>Checks user data: at most <see cref="MaxDataBytes"/> bytes.</summary>
    /// <exception cref="ArgumentException">The data is too large.</exception>
    public static byte[]? Data(byte[]? data, string settingName = "data")
    {
        if (data is { Length: > MaxDataBytes } value)
        {
            throw new ArgumentException(
                $"{settingName} is {value.Length} bytes; at most {MaxDataBytes} bytes can be stored with a lock (DynamoDB items are limited to 400 KB).",
                settingName);
        }

        return data;
    }

    /// <summary>Checks a record version number: not empty.</summary>
    /// <exception cref="ArgumentException">The record version number is empty.</exception>
    public static string RecordVersionNumber(string? recordVersionNumber, string settingName = "recordVersionNumber")
    {
        if (string.IsNullOrEmpty(recordVersionNumber))
        {
            throw new ArgumentException($"{settingName} must not be empty.", settingName);
        }

        return recordVersionNumber;
    }

    /// <summary>Checks a waiter name: not empty, at most <see cref="MaxWaiterLength"/> characters.</summary>
    /// <exception cref="ArgumentException">The waiter name is empty or too long.</exception>
    public static string Waiter(string? waiter, string settingName = "waiter")
    {
        if (string.IsNullOrWhiteSpace(waiter))
        {
            throw new ArgumentException($"{settingName} must not be empty.", settingName);
        }

        if (waiter.Length > MaxWaiterLength)
        {
            throw new ArgumentException($"{settingName} is {waiter.Length} characters long; at most {MaxWaiterLength} are allowed.", settingName);
        }

        return waiter;
    }

    internal static void Validate(AcquireLockRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Key, "key");
        OwnerName(request.OwnerName);
        LeaseDuration(request.LeaseDuration);
        Data(request.Data);
        SessionKey(request.SessionKey);
        if (request.WaiterToRemove is not null)
        {
            Waiter(request.WaiterToRemove, "waiterToRemove");
        }
    }

    internal static void Validate(HeartbeatLockRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Key, "key");
        OwnerName(request.OwnerName);
        RecordVersionNumber(request.RecordVersionNumber);
        LeaseDuration(request.LeaseDuration);
        Data(request.Data);
        SessionKey(request.SessionKey);
    }

    /// <summary>A session key, when given, is a session record's key.</summary>
    internal static void SessionKey(string? sessionKey)
    {
        if (sessionKey is not null)
        {
            LockKey.ValidateKey(sessionKey, nameof(sessionKey));
            if (!LockSessions.IsSessionKey(sessionKey))
            {
                throw new ArgumentException($"The session key must start with '{LockSessions.KeyPrefix}' (got {HumanText.Key(sessionKey)}).", nameof(sessionKey));
            }
        }
    }

    internal static void Validate(ReleaseLockRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Key, "key");
        OwnerName(request.OwnerName);
        RecordVersionNumber(request.RecordVersionNumber);
        Data(request.Data);
    }

    internal static void Validate(ListLocksRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.PageSize is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException("pageSize", request.PageSize, $"pageSize must be between 1 and 1000 (got {request.PageSize}).");
        }

        if (request.Key is not null)
        {
            LockKey.ValidateKey(request.Key, "key");
        }
    }
}
