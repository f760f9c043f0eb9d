// snippet: actor
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using DynamoLock.Actors;

/// <summary>Runs the nightly job while it holds the lock "orders/nightly"; tells whoever said <see cref="Run"/> how it went.</summary>
public sealed class NightlyJob : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _locks = ActorRegistry.For(Context.System).Get<LockManager>();   // or inject IRequiredActor<LockManager>
    private IActorRef _requester = ActorRefs.Nobody;

    public NightlyJob()
    {
        Receive<Run>(_ =>
        {
            _requester = Sender;

            // This actor becomes the holder: if it stops, its lock is released.
            _locks.Tell(new Acquire("orders/nightly", AcquireOptions.Wait(TimeSpan.FromSeconds(30))));
        });
        Receive<LockAcquired>(m =>
        {
            _log.Info("nightly job runs with fencing token {0}", m.FencingToken);   // pass the token to the resource you protect
            _locks.Tell(new Release(m.Key));                                      // when the work is done; replies LockReleased
        });
        Receive<LockNotAcquired>(m =>
        {
            _log.Warning("not now ({0}): {1}", m.Kind, m.Reason);                   // decide on m.Kind, never on m.Reason's text
            _requester.Tell(m);
        });
        Receive<LockLost>(m => _log.Warning("lost ({0}): stop the work now", m.Reason));   // arrives before anyone else can hold the lock
        Receive<LockReleased>(m => _requester.Tell(m));
    }

    /// <summary>Starts the job.</summary>
    public sealed record Run
    {
        public static readonly Run Instance = new();
    }
}
// end snippet
