using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Core;

// What the per-key lock core is told: a command from a requester, a table call's outcome, or a wake-up. Requesters are
// opaque to the core (an IActorRef in the actor, a client id in the simulator) and compared with Equals.

/// <summary>An input to <see cref="LockCore.Step"/>.</summary>
internal abstract record CoreInput;

/// <summary>A requester asks for the lock, with its options already resolved against the settings.</summary>
internal sealed record AcquireInput(object From, AcquireOptions Options, LockTiming Timing, SessionSlot? Session = null) : CoreInput;

/// <summary>A requester (the holder, or anyone giving the holder's fencing token) releases the lock, or a waiter withdraws.</summary>
internal sealed record ReleaseInput(object From, long? FencingToken) : CoreInput;

/// <summary>The holder stores data with the lock (one write that also renews it).</summary>
internal sealed record StoreDataInput(object From, long? FencingToken, byte[] Data) : CoreInput;

/// <summary>The holder stops renewing and lets the lock expire after its lease instead of releasing it.</summary>
internal sealed record StopHeartbeatInput(object From, long? FencingToken) : CoreInput;

/// <summary>A requester stopped (DeathWatch): its lock is released, its wait ends.</summary>
internal sealed record RequesterStoppedInput(object Who) : CoreInput;

/// <summary>Shutdown: refuse new requests, release what is held, then tell <paramref name="ReplyTo"/>.</summary>
internal sealed record ReleaseAllInput(object ReplyTo) : CoreInput;

/// <summary>The interpreter is stopping (its manager or system stops): tell every requester, release a held lock best-effort.</summary>
internal sealed record StoppedInput : CoreInput
{
    public static readonly StoppedInput Instance = new();
}

/// <summary>
/// Another node freed the lock and says so (<see cref="NotifyWaiters"/> there): a waiting core tries to acquire now
/// instead of at its next poll. Only a hint: the grant still comes from a conditional write; it may come late, twice,
/// or never.
/// </summary>
internal sealed record LockFreedInput : CoreInput
{
    public static readonly LockFreedInput Instance = new();
}

/// <summary>The wake-up the core asked for (or a late one): the core checks what is due at the step's time.</summary>
internal sealed record WakeInput : CoreInput
{
    public static readonly WakeInput Instance = new();
}

/// <summary>An acquire or takeover call answered.</summary>
internal sealed record AcquireAnswered(long Op, AcquireResult Result) : CoreInput;

/// <summary>A heartbeat (renew, data write or hand-off) answered.</summary>
internal sealed record HeartbeatAnswered(long Op, HeartbeatResult Result) : CoreInput;

/// <summary>A release answered.</summary>
internal sealed record ReleaseAnswered(long Op, ReleaseResult Result) : CoreInput;

/// <summary>A consistent read answered; the step's time is when it was received.</summary>
internal sealed record ReadAnswered(long Op, LockRecord? Record) : CoreInput;

/// <summary>A table call failed (<see cref="LockTableUnavailableException"/> is transient; its <c>OutcomeUnknown</c> says a write may have been applied).</summary>
internal sealed record TableFailed(long Op, Exception Error) : CoreInput;

/// <summary>Asks a session core for a session: it creates one unless it has one or is creating one.</summary>
internal sealed record StartSessionInput : CoreInput
{
    public static readonly StartSessionInput Instance = new();
}

/// <summary>Ends a session core's session: no more heartbeats; its record is deleted when <paramref name="DeleteRecord"/> (only once no lock names it).</summary>
internal sealed record CloseSessionInput(bool DeleteRecord) : CoreInput;

/// <summary>Tells a lock core that its session changed (started, renewed after a gap, or lost): it re-checks what it holds or waits for.</summary>
internal sealed record SessionChangedInput : CoreInput
{
    public static readonly SessionChangedInput Instance = new();
}
