using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace DynamoLock.Actors;

/// <summary>
/// The mailbox of every <see cref="LockActor"/>: an unbounded FIFO queue that costs one small object while empty.
/// </summary>
/// <remarks>
/// Akka's default mailbox queue is a <c>ConcurrentQueue</c>, whose first segment (32 slots) is ~1 KB per actor whether
/// or not a message ever waits: a third of an idle held lock's memory. A lock actor gets a few messages a heartbeat from
/// a handful of senders, so a linked list under a monitor is as fast in practice and costs ~32 bytes while empty and
/// 40 bytes per waiting message.
/// </remarks>
internal sealed class LockMailbox : MailboxType, IProducesMessageQueue<LockMessageQueue>
{
    /// <summary>The configuration path of this mailbox, given to <see cref="Props.WithMailbox(string)"/>.</summary>
    public const string ConfigPath = "dynamolock.lock-actor-mailbox";

    private static readonly Config Fallback =
        ConfigurationFactory.ParseString($"{ConfigPath}.mailbox-type = \"{typeof(LockMailbox).AssemblyQualifiedName}\"");

    private static readonly object ConfigureGate = new();

    /// <summary>Created by Akka from the configuration at <see cref="ConfigPath"/>.</summary>
    public LockMailbox(Settings settings, Config config)
        : base(settings, config)
    {
    }

    /// <inheritdoc />
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new LockMessageQueue();

    /// <summary>Adds this mailbox's configuration to <paramref name="system"/> unless it is there already.</summary>
    public static void EnsureConfigured(ActorSystem system)
    {
        // Settings.InjectTopLevelFallback is not thread-safe, and two managers may start at once.
        lock (ConfigureGate)
        {
            if (!system.Settings.Config.HasPath(ConfigPath))
            {
                system.Settings.InjectTopLevelFallback(Fallback);
            }
        }
    }
}

/// <summary>The queue of <see cref="LockMailbox"/>: a singly linked FIFO list guarded by the queue's own monitor.</summary>
internal sealed class LockMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private Node? _head;
    private Node? _tail;

    // Read without the monitor by HasMessages, which the dispatcher asks from any thread after the actor's run.
    private volatile int _count;

    /// <inheritdoc />
    public bool HasMessages => _count > 0;

    /// <inheritdoc />
    public int Count => _count;

    /// <inheritdoc />
    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        var node = new Node(envelope);
        lock (this)
        {
            if (_tail is null)
            {
                _head = node;
            }
            else
            {
                _tail.Next = node;
            }

            _tail = node;
            _count++;
        }
    }

    /// <inheritdoc />
    public bool TryDequeue(out Envelope envelope)
    {
        if (_count == 0)
        {
            envelope = default;
            return false;
        }

        lock (this)
        {
            var head = _head;
            if (head is null)
            {
                envelope = default;
                return false;
            }

            _head = head.Next;
            if (_head is null)
            {
                _tail = null;
            }

            _count--;
            envelope = head.Envelope;
            return true;
        }
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
        public readonly Envelope Envelope = envelope;
        public Node? Next;
    }
}
