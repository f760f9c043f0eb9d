using Akka.Actor;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>One actor that acquires many keys at once and holds them (the scale scenario's holder).</summary>
internal static class BulkHolder
{
    /// <summary>Acquires <c>{prefix}{0..count-1}</c> through <paramref name="manager"/>; completes when all are held.</summary>
    public static async Task<IActorRef> HoldAsync(ActorSystem system, IActorRef manager, string prefix, int count, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = system.ActorOf(Props.Create(() => new BulkHolderActor(manager, prefix, count, done)), $"bulk-holder-{Guid.NewGuid():N}");
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        return holder;
    }

    private sealed class BulkHolderActor : ReceiveActor
    {
        private int _granted;

        public BulkHolderActor(IActorRef manager, string prefix, int count, TaskCompletionSource done)
        {
            Receive<LockAcquired>(_ =>
            {
                if (++_granted == count)
                {
                    done.TrySetResult();
                }
            });
            Receive<LockNotAcquired>(m => done.TrySetException(new InvalidOperationException($"'{m.Key}' was not acquired: {m.Reason}")));
            Receive<LockLost>(m => done.TrySetException(new InvalidOperationException($"'{m.Key}' was lost: {m.Reason}")));
            for (var i = 0; i < count; i++)
            {
                manager.Tell(new Acquire($"{prefix}{i}"), Self);
            }
        }
    }
}
