namespace DynamoLock.Actors;

/// <summary>What a <see cref="LockHandle"/> and its actor share: whether (and why) the lock was lost.</summary>
internal sealed class LockHandleState : IDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile object? _reason;

    /// <summary>Completes when the handle's actor has stopped: after a release, a loss, or its system's shutdown.</summary>
    public Task Stopped => _stopped.Task;

    public void MarkStopped() => _stopped.TrySetResult();

    /// <summary>Waits for an answer from the handle's actor, or <paramref name="whenStopped"/> if it stopped first.</summary>
    public async Task<bool> AnswerOrStoppedAsync(Task<bool> answer, Func<bool> whenStopped, CancellationToken cancellationToken)
    {
        var first = await Task.WhenAny(answer, Stopped).WaitAsync(cancellationToken).ConfigureAwait(false);
        return first == answer || answer.IsCompleted ? await answer.ConfigureAwait(false) : whenStopped();
    }

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
