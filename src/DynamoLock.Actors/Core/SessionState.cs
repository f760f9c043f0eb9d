namespace DynamoLock.Actors.Core;

/// <summary>
/// What a node's session is, as its locks see it: which record, which generation, whether it is live and until when
/// its holder may trust it. Immutable: the session core replaces it as a whole.
/// </summary>
/// <param name="Key">The session record's key; <see langword="null"/> until the first session was created.</param>
/// <param name="Generation">Counts the sessions the core has created: a lock granted under one generation is lost once another replaces it.</param>
/// <param name="IsLive">Whether locks may be acquired under it and trusted: its record was written and its safe deadline has not passed.</param>
/// <param name="SafeDeadline">Until when every lock held under it may be trusted: <c>sentAt(last successful session write) + lease - safetyMargin</c>, on the node's clock.</param>
/// <param name="Problem">Why no session could be created (a missing table, no access), while that lasts.</param>
/// <param name="LossReason">Why the session was lost, once it was.</param>
internal sealed record SessionState(string? Key, long Generation, bool IsLive, TimeSpan SafeDeadline, Exception? Problem = null, LockLossReason? LossReason = null)
{
    /// <summary>No session yet.</summary>
    public static readonly SessionState None = new(null, 0, false, TimeSpan.Zero);

    /// <summary>Whether a lock granted under <paramref name="generation"/> may still be trusted at <paramref name="now"/>.</summary>
    public bool Trusts(long generation, TimeSpan now) => IsLive && Generation == generation && now < SafeDeadline;
}

/// <summary>
/// The current <see cref="SessionState"/> of one session core, shared by reference with the lock cores that hold
/// locks under it. The session core is its only writer; lock cores read it, on any thread, when they step.
/// </summary>
internal sealed class SessionSlot(TimeSpan leaseDuration)
{
    private volatile SessionState _current = SessionState.None;

    /// <summary>The lease of the session and of every lock held under it.</summary>
    public TimeSpan LeaseDuration { get; } = leaseDuration;

    /// <summary>The session now.</summary>
    public SessionState Current => _current;

    internal void Set(SessionState state) => _current = state;
}
