using System.Diagnostics;
using DynamoLock.Actors.Core;

namespace DynamoLock.Actors;

/// <summary>
/// One lock actor's open spans (<see cref="LockTracing"/>): each acquire and release from its request to its answer, the
/// takeover write, and the loss. Made only while someone listens, so a lock actor without traces pays one null field.
/// </summary>
internal sealed class LockSpans(string key, string owner)
{
    private const string WaitStartedAt = "dynamolock.wait_started_at";
    private readonly List<(object Requester, Activity Span)> _acquires = [];
    private readonly List<(object Requester, Activity Span)> _releases = [];
    private (long Op, Activity Span)? _takeOver;

    // The span that granted the lock held now: a loss links to it.
    private ActivityContext _grant;

    public void AcquireStarted(object requester, ActivityContext parent)
    {
        if (LockTracing.Start(LockTracing.Acquire, parent, key, owner) is { } span)
        {
            _acquires.Add((requester, span));
        }
    }

    public void ReleaseStarted(object requester, ActivityContext parent)
    {
        if (LockTracing.Start(LockTracing.Release, parent, key, owner) is { } span)
        {
            _releases.Add((requester, span));
        }
    }

    /// <summary>The lock is held elsewhere: the acquires that were not waiting yet start to.</summary>
    public void WaitStarted()
    {
        foreach (var (_, span) in _acquires)
        {
            if (span.GetCustomProperty(WaitStartedAt) is null)
            {
                span.SetCustomProperty(WaitStartedAt, Stopwatch.GetTimestamp());
                span.AddEvent(new ActivityEvent(LockTracing.WaitStarted));
            }
        }
    }

    /// <summary>An answer to a requester ends its acquire or release span.</summary>
    public void Replied(object to, object message)
    {
        switch (message)
        {
            case LockAcquired m:
                if (End(_acquires, to, "Granted", m.FencingToken, ActivityStatusCode.Ok) is { } granted)
                {
                    _grant = granted;
                }

                break;
            case LockNotAcquired m:
                End(_acquires, to, m.Kind.ToString(), token: null, IsFailure(m.Kind) ? ActivityStatusCode.Error : ActivityStatusCode.Unset, m.Reason);
                break;
            case LockReleased m:
                End(_releases, to, "Released", m.FencingToken, ActivityStatusCode.Ok);
                break;
            case LockNotHeld m:
                End(_releases, to, m.Kind.ToString(), token: null, IsFailure(m.Kind) ? ActivityStatusCode.Error : ActivityStatusCode.Unset, m.Reason);
                break;
        }
    }

    /// <summary>A requester stopped: its acquire ends unanswered.</summary>
    public void RequesterStopped(object who) => End(_acquires, who, "RequesterStopped", token: null, ActivityStatusCode.Unset);

    /// <summary>
    /// The span a table call belongs to, made current while the call starts so that the AWS SDK's spans nest under it;
    /// <see langword="null"/> for heartbeats (no span of their own, and not part of anyone's wait).
    /// </summary>
    public Activity? ParentFor(long op, TableCall call)
    {
        switch (call)
        {
            case ReleaseCall:
                return _releases.Count > 0 ? _releases[0].Span : null;
            case AcquireCall { TakeOverVersion: not null }:
                var parent = _acquires.Count > 0 ? _acquires[0].Span.Context : default;
                _takeOver?.Span.Stop();
                _takeOver = LockTracing.Start(LockTracing.TakeOver, parent, key, owner) is { } takeOver ? (op, takeOver) : null;
                return _takeOver?.Span;
            case AcquireCall or ReadCall or HeartbeatCall { Request.IssueNewFencingToken: true }:
                return _acquires.Count > 0 ? _acquires[0].Span : null;
            default:
                return null;
        }
    }

    /// <summary>A table call's outcome came back: a takeover's span ends with it.</summary>
    public void Answered(CoreInput input)
    {
        if (_takeOver is not { } takeOver)
        {
            return;
        }

        switch (input)
        {
            case AcquireAnswered m when m.Op == takeOver.Op:
                var granted = m.Result is Table.AcquireResult.Granted;
                takeOver.Span.SetTag(LockTracing.Outcome, granted ? "Granted" : "HeldElsewhere");
                if (m.Result is Table.AcquireResult.Granted g)
                {
                    takeOver.Span.SetTag(LockTracing.FencingToken, g.Record.FencingToken);
                }

                takeOver.Span.Stop();
                _takeOver = null;
                break;
            case TableFailed m when m.Op == takeOver.Op:
                takeOver.Span.SetTag(LockTracing.Outcome, LockRefusals.KindOf(m.Error).ToString());
                takeOver.Span.SetStatus(ActivityStatusCode.Error, m.Error.Message);
                takeOver.Span.Stop();
                _takeOver = null;
                break;
        }
    }

    /// <summary>The lock was lost: a span of its own, linked to the acquire that granted it.</summary>
    public void Lost(LockLost lost)
    {
        var links = _grant == default ? null : new[] { new ActivityLink(_grant) };
        var previous = Activity.Current;
        Activity.Current = null;
        try
        {
            using var span = LockTracing.Source.StartActivity(LockTracing.Lost, ActivityKind.Internal, default(ActivityContext), links: links);
            span?.SetTag(LockTracing.Key, key)
                .SetTag(LockTracing.Owner, owner)
                .SetTag(LockTracing.FencingToken, lost.FencingToken)
                .SetTag(LockTracing.LossReason, lost.Reason.ToString())
                .SetStatus(ActivityStatusCode.Error, $"Lost: {lost.Reason}");
        }
        finally
        {
            Activity.Current = previous;
        }

        _grant = default;
    }

    /// <summary>The actor stops: whatever is open ends.</summary>
    public void Stopped()
    {
        foreach (var (_, span) in _acquires.Concat(_releases))
        {
            span.SetTag(LockTracing.Outcome, "Stopped").Stop();
        }

        _acquires.Clear();
        _releases.Clear();
        _takeOver?.Span.Stop();
        _takeOver = null;
    }

    private static bool IsFailure(LockRefusalKind kind) =>
        kind is LockRefusalKind.TableMissing or LockRefusalKind.Misconfigured or LockRefusalKind.TableError or LockRefusalKind.TableUnavailable;

    private static ActivityContext? End(List<(object Requester, Activity Span)> spans, object requester, string outcome, long? token, ActivityStatusCode status, string? description = null)
    {
        var index = spans.FindIndex(s => s.Requester.Equals(requester));
        if (index < 0)
        {
            return null;
        }

        var span = spans[index].Span;
        spans.RemoveAt(index);
        span.SetTag(LockTracing.Outcome, outcome);
        if (token is { } fencingToken)
        {
            span.SetTag(LockTracing.FencingToken, fencingToken);
        }

        if (span.GetCustomProperty(WaitStartedAt) is long waitStarted)
        {
            span.SetTag(LockTracing.WaitMilliseconds, Math.Round(Stopwatch.GetElapsedTime(waitStarted).TotalMilliseconds, 1));
        }

        span.SetStatus(status, status == ActivityStatusCode.Error ? description : null);
        span.Stop();
        return span.Context;
    }
}
