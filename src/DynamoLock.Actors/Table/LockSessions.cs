namespace DynamoLock.Actors.Table;

/// <summary>
/// How sessions (one heartbeat per node for all the locks it holds in session mode) are stored in the lock table.
/// </summary>
/// <remarks>
/// <para>
/// A session is itself a record of the lock table, under a key that starts with <see cref="KeyPrefix"/>: its holder
/// heartbeats it like a lock, and a waiter that has seen its record version number unchanged for its lease (plus the
/// drift allowance) expires it by releasing it, conditioned on that version. An expired (released) session is never
/// renewed: its holder's next heartbeat finds another version and gives up every lock held under it.
/// </para>
/// <para>
/// A lock held under a session names it (<see cref="LockRecord.SessionKey"/>) and is not heartbeated: its version
/// number changes only when it changes hands, is released, or its data is written. Its stored lease is
/// <see cref="HeldLeaseDuration"/>, so that clients that know nothing of sessions (awslabs' Java client) never see it
/// as abandoned: session mode is not interoperable with those clients on the same keys.
/// </para>
/// </remarks>
public static class LockSessions
{
    /// <summary>The prefix of every session record's key: <c>dynamolock/session/&lt;owner&gt;/&lt;id&gt;</c>. Lock keys must not start with it.</summary>
    public const string KeyPrefix = "dynamolock/session/";

    /// <summary>The lease stored in a session-held lock's record (ten years): long enough that no session-unaware client ever takes it over.</summary>
    public static readonly TimeSpan HeldLeaseDuration = TimeSpan.FromDays(3650);

    /// <summary>Whether <paramref name="key"/> is a session record's key rather than a lock's.</summary>
    public static bool IsSessionKey(string? key) => key is not null && key.StartsWith(KeyPrefix, StringComparison.Ordinal);

    /// <summary>A new session's key for <paramref name="ownerName"/>: the owner, then a random id.</summary>
    public static string NewSessionKey(string ownerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerName);
        return $"{KeyPrefix}{ownerName}/{Guid.NewGuid():N}";
    }
}
