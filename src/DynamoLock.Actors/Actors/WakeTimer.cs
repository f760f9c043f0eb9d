using Akka.Actor;

namespace DynamoLock.Actors;

/// <summary>
/// The cancellation of one scheduled wake-up of a <see cref="LockActor"/>: a flag the scheduler reads before it fires.
/// </summary>
/// <remarks>
/// Akka's <c>ITimerScheduler</c> costs ~540 bytes per actor with one pending timer (a dictionary, timer records and a
/// <c>CancellationTokenSource</c>); a flag and the scheduler's own registration cost ~150. What the timer scheduler adds
/// (dropping a cancelled timer's message already in the mailbox) the core does not need: a wake-up only makes it check
/// what is due, so a stale one changes nothing.
/// </remarks>
internal sealed class WakeTimer : ICancelable
{
    private volatile bool _cancelled;

    /// <inheritdoc />
    public bool IsCancellationRequested => _cancelled;

    /// <summary>
    /// Cancels <paramref name="pending"/> and schedules <paramref name="message"/> to the actor of <paramref name="context"/>
    /// at <paramref name="at"/> (on the clock that says it is <paramref name="now"/>), or nothing; returns the new timer.
    /// The actor cancels the timer it holds in its PostStop.
    /// </summary>
    public static WakeTimer? Replace(WakeTimer? pending, TimeSpan? at, TimeSpan now, IActorContext context, object message)
    {
        pending?.Cancel();
        if (at is not { } due)
        {
            return null;
        }

        var delay = due - now;
        var timer = new WakeTimer();

        // AK1004 prefers IWithTimers; this timer is cancelled when replaced and in the actor's PostStop, as the rule asks.
#pragma warning disable AK1004
        context.System.Scheduler.ScheduleTellOnce(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, context.Self, message, context.Self, timer);
#pragma warning restore AK1004
        return timer;
    }

    /// <summary>Not supported: nothing waits on a wake-up's cancellation, and a token source per timer is what this type avoids.</summary>
    public CancellationToken Token => throw new NotSupportedException("A lock actor's wake-up timer has no cancellation token.");

    /// <inheritdoc />
    public void Cancel() => _cancelled = true;

    /// <inheritdoc />
    public void Cancel(bool throwOnFirstException) => _cancelled = true;

    /// <summary>Not supported: a wake-up is cancelled at once or not at all.</summary>
    public void CancelAfter(TimeSpan delay) => throw new NotSupportedException("A lock actor's wake-up timer is cancelled at once.");

    /// <summary>Not supported: a wake-up is cancelled at once or not at all.</summary>
    public void CancelAfter(int millisecondsDelay) => throw new NotSupportedException("A lock actor's wake-up timer is cancelled at once.");
}
