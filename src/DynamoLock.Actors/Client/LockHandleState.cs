namespace DynamoLock.Actors;

/// <summary>What a <see cref="LockHandle"/> and its actor share: whether (and why) the lock was lost.</summary>
internal sealed class LockHandleState : IDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private volatile object? _reason;

    public CancellationToken LostToken => _lost.Token;

    public LockLossReason? LossReason => (LockLossReason?)_reason;

    public void MarkLost(LockLossReason reason)
    {
        _reason = reason;

        // Callbacks registered on the token run on the thread pool, never on the actor's thread.
        _ = _lost.CancelAsync();
    }

    public void Dispose() => _lost.Dispose();
}
