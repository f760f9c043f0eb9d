using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>The moment (on one process-wide monotonic clock) an actor received a message.</summary>
public sealed record Stamped(long At, string Who, object Message);

/// <summary>
/// Records when it receives each message, then forwards it to a probe: for asserting the order in which different
/// nodes learned things, which a probe's own receive time cannot show.
/// </summary>
public sealed class Recorder : ReceiveActor
{
    public Recorder(string who, ConcurrentQueue<Stamped> log, IActorRef forwardTo) =>
        ReceiveAny(message =>
        {
            log.Enqueue(new Stamped(Stopwatch.GetTimestamp(), who, message));
            forwardTo.Forward(message);
        });

    public static Props Props(string who, ConcurrentQueue<Stamped> log, IActorRef forwardTo) =>
        Akka.Actor.Props.Create(() => new Recorder(who, log, forwardTo));
}
