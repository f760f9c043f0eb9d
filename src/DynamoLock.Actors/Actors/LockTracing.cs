using System.Diagnostics;
using System.Reflection;

namespace DynamoLock.Actors;

/// <summary>
/// The library's traces, on the <c>DynamoLock.Actors</c> activity source: collect them with OpenTelemetry
/// (<c>AddSource("DynamoLock.Actors")</c>). Spans: <c>dynamolock.acquire</c> (from the request to its outcome, waiting
/// included), <c>dynamolock.takeover</c> (the write that takes an abandoned lock, under its acquire),
/// <c>dynamolock.release</c> and <c>dynamolock.lost</c>. No span per heartbeat: <c>dynamolock.heartbeats</c> counts them.
/// </summary>
internal static class LockTracing
{
    public const string Acquire = "dynamolock.acquire";
    public const string Release = "dynamolock.release";
    public const string TakeOver = "dynamolock.takeover";
    public const string Lost = "dynamolock.lost";

    // Tags.
    public const string Key = "dynamolock.key";
    public const string Owner = "dynamolock.owner";
    public const string FencingToken = "dynamolock.fencing_token";
    public const string Outcome = "dynamolock.outcome";
    public const string WaitMilliseconds = "dynamolock.wait_ms";
    public const string LossReason = "dynamolock.loss_reason";

    /// <summary>The event on an acquire span when the lock turned out to be held elsewhere and the wait began.</summary>
    public const string WaitStarted = "dynamolock.wait";

    public static readonly ActivitySource Source = new(
        DynamoLockDiagnostics.ActivitySourceName,
        typeof(LockTracing).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    /// <summary>Whether anyone listens: when not, no span is made and nothing is allocated for them.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>
    /// Starts a span under <paramref name="parent"/>, or as a root when it is <see langword="default"/> (never under
    /// whatever activity happens to be current on an actor's thread).
    /// </summary>
    public static Activity? Start(string name, ActivityContext parent, string key, string owner)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        try
        {
            var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
            activity?.SetTag(Key, key).SetTag(Owner, owner);
            return activity;
        }
        finally
        {
            // The new span is not left current on the actor's thread: it belongs to the request, not to what runs next.
            Activity.Current = previous;
        }
    }
}
