using Akka.Actor;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>A reply to a lock command and the monotonic time it reached the requesting actor.</summary>
internal sealed record TimedReply(object Message, long ReceivedAt)
{
    public T Expect<T>()
        where T : class =>
        Message as T ?? throw new InvalidOperationException($"Expected {typeof(T).Name}, got {Message}.");
}

/// <summary>
/// Sends lock commands from a real actor (a LockManager refuses Ask: the temporary asker would hold the lock) and
/// timestamps each reply when the actor receives it, so a measurement does not include the hop back to a task.
/// </summary>
internal sealed class Requester
{
    private readonly IActorRef _actor;
    private readonly IActorRef _manager;

    public Requester(ActorSystem system, IActorRef manager, string name)
    {
        _manager = manager;
        _actor = system.ActorOf(Props.Create(() => new RequesterActor()), name);
    }

    /// <summary>Sends <paramref name="command"/> (an <see cref="Acquire"/> or <see cref="Release"/>) and waits for its reply.</summary>
    public async Task<TimedReply> SendAsync(object command, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var reply = new TaskCompletionSource<TimedReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _actor.Tell(new RequesterActor.Send(command, _manager, reply));
        return await reply.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Acquires <paramref name="key"/> (waiting up to <paramref name="wait"/>); throws when it is not granted.</summary>
    public async Task<TimedReply> AcquireAsync(string key, CancellationToken cancellationToken, TimeSpan? wait = null, AcquireOptions? options = null)
    {
        var reply = await SendAsync(new Acquire(key, (options ?? AcquireOptions.Default) with { WaitTimeout = wait ?? TimeSpan.Zero }), cancellationToken, (wait ?? TimeSpan.Zero) + TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        reply.Expect<LockAcquired>();
        return reply;
    }

    /// <summary>Releases <paramref name="key"/>; throws when it was not held.</summary>
    public async Task<TimedReply> ReleaseAsync(string key, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(new Release(key), cancellationToken).ConfigureAwait(false);
        reply.Expect<LockReleased>();
        return reply;
    }

    private sealed class RequesterActor : ReceiveActor
    {
        private readonly Dictionary<string, Queue<TaskCompletionSource<TimedReply>>> _pending = new(StringComparer.Ordinal);

        public RequesterActor()
        {
            Receive<Send>(send =>
            {
                var key = send.Command switch
                {
                    Acquire acquire => acquire.Key,
                    Release release => release.Key,
                    _ => throw new ArgumentException($"Unsupported command {send.Command}."),
                };
                if (!_pending.TryGetValue(key, out var queue))
                {
                    _pending[key] = queue = new Queue<TaskCompletionSource<TimedReply>>();
                }

                queue.Enqueue(send.Reply);
                send.Target.Tell(send.Command);
            });
            Receive<LockAcquired>(m => Complete(m.Key, m));
            Receive<LockNotAcquired>(m => Complete(m.Key, m));
            Receive<LockReleased>(m => Complete(m.Key, m));
            Receive<LockNotHeld>(m => Complete(m.Key, m));

            // A loss is not a reply to a command; the scenarios that hold locks look for it in their results.
            Receive<LockLost>(_ => { });
        }

        private void Complete(string key, object message)
        {
            var receivedAt = Timing.Now();
            if (_pending.TryGetValue(key, out var queue) && queue.TryDequeue(out var reply))
            {
                reply.TrySetResult(new TimedReply(message, receivedAt));
            }
        }

        public sealed record Send(object Command, IActorRef Target, TaskCompletionSource<TimedReply> Reply);
    }
}
