using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

// What the per-key lock core asks its interpreter to do, in order. The interpreter (LockActor, or the simulator's node)
// performs them and feeds every table call's outcome back as an input with the call's Op.

/// <summary>An effect of <see cref="LockCore.Step"/>.</summary>
internal abstract record CoreEffect;

/// <summary>Start a table call; its outcome comes back as <see cref="AcquireAnswered"/>/<see cref="HeartbeatAnswered"/>/<see cref="ReleaseAnswered"/>/<see cref="ReadAnswered"/> or <see cref="TableFailed"/> with <paramref name="Op"/>.</summary>
internal sealed record CallTable(long Op, TableCall Call) : CoreEffect;

/// <summary>Send <paramref name="Message"/> to one requester (a reply, or an event addressed to it).</summary>
internal sealed record SendTo(object To, object Message) : CoreEffect;

/// <summary>
/// Publish an event to subscribers and the EventStream (its direct recipients get a <see cref="SendTo"/> first);
/// <paramref name="Holder"/>: the requester the event is about, when it is one (the holder that lost its lock).
/// </summary>
internal sealed record PublishEvent(ILockEvent Event, object? Holder = null) : CoreEffect;

/// <summary>Watch a requester for termination (<see cref="RequesterStoppedInput"/>).</summary>
internal sealed record WatchRequester(object Who) : CoreEffect;

/// <summary>Stop watching a requester.</summary>
internal sealed record UnwatchRequester(object Who) : CoreEffect;

/// <summary>The one wake-up the core wants next, on the core's clock; <see langword="null"/>: none. Replaces any earlier one.</summary>
internal sealed record WakeAt(TimeSpan? At) : CoreEffect;

/// <summary>The lock's state changed in a way the manager reports (<see cref="GetLockStatus"/>).</summary>
internal sealed record ReportState(LockState State, long? FencingToken, object? Holder, int Waiters, string? CurrentOwner) : CoreEffect;

/// <summary>Nothing to do for the idle timeout: the manager may stop this key's actor.</summary>
internal sealed record BecameIdle : CoreEffect
{
    public static readonly BecameIdle Instance = new();
}

/// <summary>
/// Session-held and quiet for the idle timeout (<see cref="LockCore.CanRest"/>): the interpreter may go and keep only the
/// core, until an input for it comes (<see cref="LockCore.Resume"/>). An offer only: nothing changes if it is not taken.
/// </summary>
internal sealed record RestOffer : CoreEffect
{
    public static readonly RestOffer Instance = new();
}

/// <summary>After <see cref="ReleaseAllInput"/>: nothing is held or being released any more.</summary>
internal sealed record AllReleased(object ReplyTo) : CoreEffect;

/// <summary>Something an operator may want in the log.</summary>
internal sealed record LogLine(CoreLogLevel Level, string Text) : CoreEffect;

/// <summary>A metric to count.</summary>
internal sealed record CountMetric(CoreMetric Metric, LockLossReason? Reason = null) : CoreEffect;

/// <summary>A lock core needs <paramref name="Slot"/>'s session to be live before it can write: the interpreter starts it (<see cref="StartSessionInput"/>).</summary>
internal sealed record SessionNeeded(SessionSlot Slot) : CoreEffect;

/// <summary>
/// The lock was freed by this node's release and these nodes (their <see cref="LockCoreOptions.NoticeAddress"/>) had
/// registered as waiting: tell each that it may try now (<see cref="LockFreedInput"/> there). This node's own address is
/// never among them.
/// </summary>
internal sealed record NotifyWaiters(IReadOnlyCollection<string> Addresses) : CoreEffect;

/// <summary>A session core's session changed: the interpreter tells the lock cores that hold or wait under it.</summary>
internal sealed record SessionChanged(SessionState State) : CoreEffect;

/// <summary>A table call the core asks for.</summary>
internal abstract record TableCall;

/// <summary>Acquire (or, with <paramref name="TakeOverVersion"/>, take over the record last seen with that version).</summary>
internal sealed record AcquireCall(AcquireLockRequest Request, string? TakeOverVersion) : TableCall;

/// <summary>Renew, store data, or hand off (a new fencing token) in one conditional write.</summary>
internal sealed record HeartbeatCall(HeartbeatLockRequest Request) : TableCall;

/// <summary>Release (or delete) in one conditional write.</summary>
internal sealed record ReleaseCall(ReleaseLockRequest Request) : TableCall;

/// <summary>One consistent read of the record.</summary>
internal sealed record ReadCall(LockKey Key) : TableCall;

/// <summary>
/// Registers <paramref name="Waiter"/> (this node's notice address) on the record (<c>AddWaiterAsync</c>). Sent with
/// <see cref="LockCore.NoAnswer"/> as its op: its outcome changes nothing in the core (a registration that failed is
/// made again when the next read shows the address missing), so the interpreter need not report it.
/// </summary>
internal sealed record AddWaiterCall(LockKey Key, string Waiter) : TableCall;

/// <summary>Log levels of <see cref="LogLine"/>.</summary>
internal enum CoreLogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}

/// <summary>The counters of <see cref="CountMetric"/> (see LockMetrics).</summary>
internal enum CoreMetric
{
    Acquisition,
    ContentionWait,
    Heartbeat,
    HeartbeatFailure,
    Loss,
    Release,
    HeldUp,
    HeldDown,
}
