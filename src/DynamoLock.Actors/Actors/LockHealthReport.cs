namespace DynamoLock.Actors;

/// <summary>A lock manager's answer to <see cref="GetLockHealth"/>: what its health check judges.</summary>
/// <param name="Held">Locks held on this node (resting ones included).</param>
/// <param name="Waiting">Locks this node is acquiring or waiting for.</param>
/// <param name="UnreleasedLosses">Locks lost whose application has not released them yet, nor stopped.</param>
/// <param name="FailingHeartbeats">Locks and sessions whose last heartbeat failed, still within their safety margin.</param>
/// <param name="LastAnswer">When the table last answered (a Stopwatch timestamp; 0: never).</param>
/// <param name="LastProblem">The table's last failure, if any.</param>
/// <param name="ShuttingDown">The manager is releasing its locks for shutdown.</param>
internal sealed record LockHealthReport(
    int Held,
    int Waiting,
    IReadOnlyList<LockLost> UnreleasedLosses,
    IReadOnlyList<string> FailingHeartbeats,
    long LastAnswer,
    TableProblem? LastProblem,
    bool ShuttingDown)
{
    /// <summary>The last failure, when the table has not answered since it.</summary>
    public TableProblem? CurrentProblem => LastProblem is { } problem && problem.At > LastAnswer ? problem : null;
}
