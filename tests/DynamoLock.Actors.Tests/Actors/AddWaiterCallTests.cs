using Akka.Actor;
using DynamoLock.Actors.Core;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Actors;

/// <summary>
/// The interpreter's part of a waiter's registration (<see cref="AddWaiterCall"/>): the write is made, the node's health
/// hears how it went, and nothing is reported to the lock actor, whose core waits for no answer (<see cref="LockCore.NoAnswer"/>).
/// </summary>
public sealed class AddWaiterCallTests(ITestOutputHelper output) : LockTestKit(output)
{
    private const string Waiter = "akka.tcp://node-2@127.0.0.1:4053/user/locks";

    [Fact]
    public async Task A_registration_is_written_and_reported_to_the_health_only()
    {
        var table = new InMemoryLockTable();
        var key = $"add-waiter/{Guid.NewGuid():N}";
        StartManager(table, FastSettings("holder")).Tell(new Acquire(key));
        ExpectMsg<LockAcquired>();
        var health = new NodeHealth();

        CoreInterpreter.Call(table, LockCore.NoAnswer, new AddWaiterCall(new LockKey(key), Waiter), TestActor, health);

        await AwaitAssertAsync(async () => Assert.Contains(Waiter, (await table.ReadAsync(new LockKey(key)))!.Waiters));
        AwaitAssert(() => Assert.NotEqual(0, health.LastAnswer));
        Assert.Null(health.LastProblem);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_registration_that_throws_at_once_is_reported_to_the_health_only()
    {
        var health = new NodeHealth();

        // The in-memory table refuses an empty waiter before it returns a task.
        CoreInterpreter.Call(new InMemoryLockTable(), LockCore.NoAnswer, new AddWaiterCall(new LockKey("k"), ""), TestActor, health);

        Assert.Equal("add-waiter", health.LastProblem?.Operation);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_registration_that_fails_later_is_reported_to_the_health_only()
    {
        var health = new NodeHealth();
        var table = new ControllableLockTable(new InMemoryLockTable()) { Partitioned = true };

        CoreInterpreter.Call(table, LockCore.NoAnswer, new AddWaiterCall(new LockKey("k"), Waiter), TestActor, health);

        AwaitAssert(() => Assert.Equal("add-waiter", health.LastProblem?.Operation));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }
}
