using Akka.Actor;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>One actor that acquires many keys at once and holds them (the scale scenario's holder).</summary>
internal static class BulkHolder
{
    /// <summary>Acquires <c>{prefix}{0..count-1}</c> through <paramref name="manager"/>; completes when all are held.</summary>
    /// <param name="inFlight">At most this many acquires outstanding at once (a local DynamoDB server answers a burst of thousands of writes slower than a short lease allows).</param>
    public static async Task<IActorRef> HoldAsync(ActorSystem system, IActorRef manager, string prefix, int count, CancellationToken cancellationToken, int inFlight = int.MaxValue)
    {
        var (holder, held) = Start(system, manager, prefix, count, null, inFlight);
        await held.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        return holder;
    }

    /// <summary>Sends the acquires with <paramref name="options"/> and returns at once, with a task that completes when all are held.</summary>
    public static (IActorRef Holder, Task Held) Start(ActorSystem system, IActorRef manager, string prefix, int count, AcquireOptions? options, int inFlight = int.MaxValue)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = system.ActorOf(Props.Create(() => new BulkHolderActor(manager, prefix, count, options, inFlight, done)), $"bulk-holder-{Guid.NewGuid():N}");
        return (holder, done.Task);
    }

    private sealed class BulkHolderActor : ReceiveActor
    {
        private int _granted;

        private int _sent;

        public BulkHolderActor(IActorRef manager, string prefix, int count, AcquireOptions? options, int inFlight, TaskCompletionSource done)
        {
            Receive<LockAcquired>(_ =>
            {
                if (++_granted == count)
                {
                    done.TrySetResult();
                }
                else if (_sent < count)
                {
                    manager.Tell(new Acquire($"{prefix}{_sent++}", options), Self);
                }
            });
            Receive<LockNotAcquired>(m => done.TrySetException(new InvalidOperationException($"'{m.Key}' was not acquired: {m.Reason}")));
            Receive<LockLost>(m => done.TrySetException(new InvalidOperationException($"'{m.Key}' was lost: {m.Reason}")));
            while (_sent < Math.Min(count, inFlight))
            {
                manager.Tell(new Acquire($"{prefix}{_sent++}", options), Self);
            }
        }
    }
}
