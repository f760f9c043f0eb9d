using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace DynamoLock.Actors;

/// <summary>
/// The mailbox of the per-key lock actors: an unbounded multiple-producer, single-consumer queue of linked nodes.
/// Akka's default mailbox (a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>) preallocates a 32-slot
/// segment, about 1 KB per actor even when empty; an idle held lock has an empty mailbox almost all of the time, so
/// with 100k held locks this queue saves about 100 MB. A message costs one 32-byte node while it waits.
/// Configured at <see cref="ConfigPath"/> (the LockManager adds the entry to its actor system's configuration).
/// </summary>
internal sealed class LockActorMailbox : MailboxType, IProducesMessageQueue<LinkedMessageQueue>
{
    /// <summary>Where the mailbox is configured.</summary>
    public const string ConfigPath = "dynamolock.lock-actor-mailbox";

    /// <summary>The configuration entry that selects this mailbox.</summary>
    internal static readonly Config MailboxConfig = ConfigurationFactory.ParseString(
        $"{ConfigPath}.mailbox-type = \"{typeof(LockActorMailbox).FullName}, {typeof(LockActorMailbox).Assembly.GetName().Name}\"");

    /// <summary>Created by Akka from the configuration.</summary>
    public LockActorMailbox(Settings settings, Config config)
        : base(settings, config)
    {
    }

    /// <inheritdoc />
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new LinkedMessageQueue();
}
