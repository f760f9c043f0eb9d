using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

/// <summary>
/// One key's lock protocol on one node as a pure state machine, in the manner of etcd's raft: an input and the node's
/// monotonic time go in (<see cref="Step"/>), effects come out (table calls, replies, events, the next wake-up). No
/// Akka, no tasks, no I/O, no clock of its own.
/// </summary>
internal sealed class LockCore
{
    public LockCore(string key, LockKey lockKey, LockCoreOptions options)
    {
        Key = key;
        LockKey = lockKey;
        Options = options;
    }

    public string Key { get; }

    public LockKey LockKey { get; }

    public LockCoreOptions Options { get; }

    /// <summary>Where the lock is.</summary>
    public LockState State { get; private set; } = LockState.Idle;

    /// <summary>Feeds one input at <paramref name="now"/> (the node's monotonic clock) and appends the effects, in order, to <paramref name="effects"/>.</summary>
    public void Step(CoreInput input, TimeSpan now, List<CoreEffect> effects) => throw new NotImplementedException();
}
