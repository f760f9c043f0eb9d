using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

/// <summary>
/// What one node's waiters have seen of other nodes' sessions, shared by all its lock cores: a session that holds many
/// keys this node waits for is read about once per refresh and expired with one write, not once per waiting key.
/// </summary>
/// <remarks>
/// <para>Safe to share because every core of a node counts time on the same monotonic clock: the earliest time any of
/// them received a read showing a session at a version is a receipt of that version by this node, which is all a
/// waiter's count of <c>lease + drift</c> needs (docs/sessions.md). The expiry write is still conditioned on that
/// version, so a session renewed meanwhile is never expired.</para>
/// <para>Lock actors step on different threads: every member takes a short lock (no I/O under it).</para>
/// </remarks>
internal sealed class SessionWatch
{
    // Entries not read for this long are forgotten when the watch grows (a waiter that needs one reads again).
    private static readonly TimeSpan Forget = TimeSpan.FromMinutes(10);
    private const int PruneAbove = 1024;

    private readonly Dictionary<string, Seen> _sessions = new(StringComparer.Ordinal);

    /// <summary>
    /// Records a read of <paramref name="sessionKey"/> (its record, or <see langword="null"/> when it is gone) received at
    /// <paramref name="receivedAt"/>, and returns when this node first received a read showing the same version (for a
    /// live session), else <paramref name="receivedAt"/>.
    /// </summary>
    public TimeSpan Record(string sessionKey, LockRecord? session, TimeSpan receivedAt, bool ignoreVersion = false)
    {
        lock (_sessions)
        {
            if (_sessions.Count > PruneAbove)
            {
                foreach (var stale in _sessions.Where(s => receivedAt - s.Value.ReadAt > Forget).Select(s => s.Key).ToList())
                {
                    _sessions.Remove(stale);
                }
            }

            var firstSeen = receivedAt;
            if (_sessions.TryGetValue(sessionKey, out var known) && session is not null &&
                (ignoreVersion || string.Equals(known.Record?.RecordVersionNumber, session.RecordVersionNumber, StringComparison.Ordinal)))
            {
                firstSeen = known.FirstSeen < receivedAt ? known.FirstSeen : receivedAt;
            }

            // A session seen released or gone stays so: its owner never renews it (a new session has a new key).
            var expired = known?.Expired == true || session is null || session.IsReleased;
            _sessions[sessionKey] = new Seen(session, firstSeen, receivedAt > (known?.ReadAt ?? TimeSpan.MinValue) ? receivedAt : known!.ReadAt, expired, known?.ExpiryClaimedAt);
            return firstSeen;
        }
    }

    /// <summary>The latest read of <paramref name="sessionKey"/> on this node if it was received at or after <paramref name="notBefore"/>, or if the session is known to be expired.</summary>
    public (LockRecord? Record, TimeSpan FirstSeen, bool Expired)? Latest(string sessionKey, TimeSpan notBefore)
    {
        lock (_sessions)
        {
            return _sessions.TryGetValue(sessionKey, out var known) && (known.Expired || known.ReadAt >= notBefore)
                ? (known.Record, known.FirstSeen, known.Expired)
                : null;
        }
    }

    /// <summary>
    /// Claims the one expiry write of <paramref name="sessionKey"/> on this node; <see langword="false"/> while another
    /// core's claim, made less than <paramref name="claimFor"/> ago, stands. A claim is given up with
    /// <see cref="EndExpiry"/>; one whose answer never comes lapses (a second expiry write is harmless: its condition fails).
    /// </summary>
    public bool TryClaimExpiry(string sessionKey, TimeSpan now, TimeSpan claimFor)
    {
        lock (_sessions)
        {
            if (!_sessions.TryGetValue(sessionKey, out var known))
            {
                return true;
            }

            if (known.ExpiryClaimedAt is { } claimed && now - claimed < claimFor)
            {
                return false;
            }

            _sessions[sessionKey] = known with { ExpiryClaimedAt = now };
            return true;
        }
    }

    /// <summary>Gives up the expiry claim on <paramref name="sessionKey"/>, once its write was answered.</summary>
    public void EndExpiry(string sessionKey)
    {
        lock (_sessions)
        {
            if (_sessions.TryGetValue(sessionKey, out var known))
            {
                _sessions[sessionKey] = known with { ExpiryClaimedAt = null };
            }
        }
    }

    private sealed record Seen(LockRecord? Record, TimeSpan FirstSeen, TimeSpan ReadAt, bool Expired, TimeSpan? ExpiryClaimedAt);
}
