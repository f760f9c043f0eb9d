using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace DynamoLock.Actors;

/// <summary>
/// An unbounded multiple-producer, single-consumer message queue of linked nodes (the intrusive-free variant of
/// Dmitry Vyukov's MPSC queue): producers swap themselves in at the head with one atomic exchange and then link the
/// previous node to theirs; the single consumer (the actor's mailbox run) follows the links from the tail.
/// An empty queue is one node and two references, instead of a preallocated array.
/// </summary>
/// <remarks>
/// Between a producer's exchange and its link, the consumer sees the queue as empty up to that node. That is safe in
/// a mailbox: the producer schedules the mailbox after its enqueue returns, so the message is processed in that run.
/// </remarks>
internal sealed class LinkedMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private Node _head;
    private Node _tail;
    private int _count;

    /// <summary>Creates an empty queue.</summary>
    public LinkedMessageQueue()
    {
        _head = _tail = new Node(default);
    }

    /// <inheritdoc />
    public bool HasMessages => Volatile.Read(ref Volatile.Read(ref _tail).Next) is not null;

    /// <inheritdoc />
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        var node = new Node(envelope);
        Interlocked.Increment(ref _count);
        var previous = Interlocked.Exchange(ref _head, node);
        Volatile.Write(ref previous.Next, node);
    }

    /// <inheritdoc />
    public bool TryDequeue(out Envelope envelope)
    {
        var tail = _tail;
        var next = Volatile.Read(ref tail.Next);
        if (next is null)
        {
            envelope = default;
            return false;
        }

        envelope = next.Envelope;

        // The dequeued node becomes the empty sentinel; drop its message so the queue does not keep it alive.
        next.Envelope = default;
        Volatile.Write(ref _tail, next);
        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <inheritdoc />
    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
        {
            deadletters.Enqueue(owner, envelope);
        }
    }

    private sealed class Node(Envelope envelope)
    {
        public Envelope Envelope = envelope;
        public Node? Next;
    }
}
