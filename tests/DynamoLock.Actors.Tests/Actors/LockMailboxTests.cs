using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using DynamoLock.Actors.Table;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>The lock actors' own mailbox queue: FIFO per sender under concurrent senders, and nothing lost at stop.</summary>
public sealed class LockMailboxTests(ITestOutputHelper output) : LockTestKit(output)
{
    [Fact]
    public void Messages_come_out_in_the_order_each_sender_put_them_in_even_when_senders_race()
    {
        var queue = new LockMessageQueue();
        const int senders = 4;
        const int perSender = 20_000;
        var received = new List<(int Sender, int Index)>();
        using var start = new Barrier(senders + 1);
        // Threads of their own, not the thread pool: the barrier would hold pool threads while the pool grows.
        var producers = Enumerable.Range(0, senders).Select(s => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perSender; i++)
            {
                queue.Enqueue(ActorRefs.Nobody, new Envelope((s, i), ActorRefs.NoSender));
            }
        })).ToArray();
        foreach (var producer in producers)
        {
            producer.Start();
        }

        start.SignalAndWait();
        while (received.Count < senders * perSender)
        {
            if (queue.TryDequeue(out var envelope))
            {
                received.Add(((int, int))envelope.Message);
            }
        }

        foreach (var producer in producers)
        {
            producer.Join();
        }

        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryDequeue(out _));
        foreach (var group in received.GroupBy(r => r.Sender))
        {
            Assert.Equal(Enumerable.Range(0, perSender), group.Select(r => r.Index));
        }
    }

    [Fact]
    public void A_stopped_actors_waiting_messages_go_to_dead_letters()
    {
        var queue = new LockMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope("first", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("second", ActorRefs.NoSender));
        Assert.True(queue.HasMessages);
        Assert.Equal(2, queue.Count);
        var deadLetters = new UnboundedMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.False(queue.HasMessages);
        Assert.True(deadLetters.TryDequeue(out var first));
        Assert.True(deadLetters.TryDequeue(out var second));
        Assert.Equal(["first", "second"], new[] { first.Message, second.Message });
    }

    [Fact]
    public void Lock_actors_run_on_the_lock_mailbox()
    {
        var manager = StartManager(new InMemoryLockTable(), FastSettings("mailbox-node"));
        var holder = CreateTestProbe();
        holder.Send(manager, new Acquire("mailbox/key"));
        holder.ExpectMsg<LockAcquired>();

        var lockActor = (ActorRefWithCell)holder.LastSender!;
        var cell = (ActorCell)lockActor.Underlying;
        Assert.IsType<LockMessageQueue>(cell.Mailbox!.MessageQueue);
    }
}
