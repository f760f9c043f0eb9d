using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Xunit;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>The lock actors' mailbox queue: every message once, in each sender's order, whatever the interleaving.</summary>
public sealed class LinkedMessageQueueTests
{
    [Fact]
    public void An_empty_queue_has_nothing_to_dequeue()
    {
        var queue = new LinkedMessageQueue();

        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void Messages_come_out_in_the_order_they_went_in()
    {
        var queue = new LinkedMessageQueue();
        for (var i = 0; i < 100; i++)
        {
            queue.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));
        }

        Assert.True(queue.HasMessages);
        Assert.Equal(100, queue.Count);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(queue.TryDequeue(out var envelope));
            Assert.Equal(i, envelope.Message);
        }

        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Concurrent_producers_lose_nothing_and_keep_their_own_order()
    {
        const int producers = 4;
        const int perProducer = 50_000;
        var queue = new LinkedMessageQueue();
        using var start = new Barrier(producers + 1);
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perProducer; i++)
            {
                queue.Enqueue(ActorRefs.Nobody, new Envelope((p, i), ActorRefs.NoSender));
            }
        })).ToList();
        threads.ForEach(t => t.Start());

        // One consumer, as in a mailbox: drains while the producers are still writing.
        var next = new int[producers];
        var received = 0;
        start.SignalAndWait();
        while (received < producers * perProducer)
        {
            if (!queue.TryDequeue(out var envelope))
            {
                Thread.Yield();
                continue;
            }

            var (producer, sequence) = ((int, int))envelope.Message;
            Assert.Equal(next[producer], sequence);
            next[producer]++;
            received++;
        }

        threads.ForEach(t => t.Join());
        Assert.All(next, count => Assert.Equal(perProducer, count));
        Assert.False(queue.TryDequeue(out _));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Clean_up_moves_what_is_left_to_dead_letters()
    {
        var queue = new LinkedMessageQueue();
        var deadLetters = new UnboundedMessageQueue();
        queue.Enqueue(ActorRefs.Nobody, new Envelope("a", ActorRefs.NoSender));
        queue.Enqueue(ActorRefs.Nobody, new Envelope("b", ActorRefs.NoSender));

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.False(queue.HasMessages);
        Assert.Equal(2, deadLetters.Count);
    }
}
