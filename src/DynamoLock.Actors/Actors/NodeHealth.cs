using System.Collections.Concurrent;
using System.Diagnostics;

namespace DynamoLock.Actors;

/// <summary>
/// What one lock manager's actors have seen of the table, for its health check: when the table last answered, its last
/// failure, and which locks and sessions have a failing heartbeat now. Written from table-call continuations and lock
/// actors on any thread; read by the manager when it is asked for its health.
/// </summary>
internal sealed class NodeHealth
{
    // Keys (a lock's name, or a session's record key) whose last heartbeat failed, and since when (a Stopwatch timestamp).
    private readonly ConcurrentDictionary<string, long> _failingHeartbeats = new(StringComparer.Ordinal);
    private long _lastAnswer;
    private TableProblem? _lastProblem;

    /// <summary>The table answered a call (a conditional failure is an answer too).</summary>
    public void Answered() => Volatile.Write(ref _lastAnswer, Stopwatch.GetTimestamp());

    /// <summary>A table call failed with <paramref name="error"/>.</summary>
    public void Failed(string operation, Exception error) =>
        Volatile.Write(ref _lastProblem, new TableProblem(operation, LockRefusals.KindOf(error), error.Message, Stopwatch.GetTimestamp()));

    /// <summary>A heartbeat of <paramref name="key"/> failed and will be retried within its safety margin.</summary>
    public void HeartbeatFailed(string key) => _failingHeartbeats.TryAdd(key, Stopwatch.GetTimestamp());

    /// <summary>A heartbeat of <paramref name="key"/> succeeded, or it is no longer held: its failures are over.</summary>
    public void HeartbeatsOver(string key)
    {
        // Checked first: nearly always empty, and a removal on every heartbeat of every lock would cost a lookup each.
        if (!_failingHeartbeats.IsEmpty)
        {
            _failingHeartbeats.TryRemove(key, out _);
        }
    }

    /// <summary>When the table last answered (a Stopwatch timestamp; 0: never).</summary>
    public long LastAnswer => Volatile.Read(ref _lastAnswer);

    /// <summary>The table's last failure, if any.</summary>
    public TableProblem? LastProblem => Volatile.Read(ref _lastProblem);

    /// <summary>The keys whose heartbeats are failing now.</summary>
    public IReadOnlyList<string> FailingHeartbeats => _failingHeartbeats.Keys.Order(StringComparer.Ordinal).ToList();
}

/// <summary>A failed table call.</summary>
/// <param name="Operation">Which call: acquire, heartbeat, release or read.</param>
/// <param name="Kind">What kind of failure, as a request would be refused for it.</param>
/// <param name="Message">The table's words.</param>
/// <param name="At">When (a Stopwatch timestamp).</param>
internal sealed record TableProblem(string Operation, LockRefusalKind Kind, string Message, long At);
