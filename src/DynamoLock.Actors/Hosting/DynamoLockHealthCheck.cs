using System.Diagnostics;
using Akka.Actor;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DynamoLock.Actors.Hosting;

/// <summary>
/// The health of one <see cref="LockManager"/> for ASP.NET Core health probes (register it with
/// <see cref="DynamoLockHealthCheckExtensions.AddDynamoLock"/>):
/// <list type="bullet">
/// <item><description><b>Healthy</b>: no held lock or session is behind on its heartbeats and the table's last call succeeded.</description></item>
/// <item><description>
/// <b>Degraded</b>: heartbeats are failing but the locks are still within their safety margin, or the table's last call
/// failed transiently while locks are held or wanted here.
/// </description></item>
/// <item><description>
/// <b>Unhealthy</b> (the registration's failure status): a lock was lost and the application has not released it yet
/// (no <see cref="Release"/> or <see cref="Acquire"/> for its key since, and its holder still runs), the table is missing
/// or cannot be called as configured (credentials, access denied), or the manager did not answer.
/// </description></item>
/// </list>
/// Its data: <c>held_locks</c>, <c>waiting_locks</c>, <c>failing_heartbeats</c>, <c>unreleased_losses</c>,
/// <c>last_table_answer_seconds_ago</c> and, after a failure, <c>last_table_error</c>, <c>last_table_error_kind</c>,
/// <c>last_table_error_seconds_ago</c>.
/// </summary>
public sealed class DynamoLockHealthCheck : IHealthCheck
{
    private readonly Func<CancellationToken, Task<IActorRef>> _manager;
    private readonly TimeSpan _askTimeout;

    /// <summary>Creates the check for <paramref name="lockManager"/>.</summary>
    /// <param name="lockManager">The <see cref="LockManager"/> to ask.</param>
    /// <param name="askTimeout">How long to wait for its answer before the check fails; default 5 s.</param>
    public DynamoLockHealthCheck(IActorRef lockManager, TimeSpan? askTimeout = null)
        : this(_ => Task.FromResult(lockManager ?? throw new ArgumentNullException(nameof(lockManager))), askTimeout)
    {
    }

    internal DynamoLockHealthCheck(Func<CancellationToken, Task<IActorRef>> lockManager, TimeSpan? askTimeout)
    {
        _manager = lockManager;
        _askTimeout = askTimeout ?? TimeSpan.FromSeconds(5);
        if (_askTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(askTimeout), askTimeout, "The health check's ask timeout must be positive.");
        }
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var failure = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        IActorRef manager;
        var started = Stopwatch.GetTimestamp();
        try
        {
            // Under Akka.Hosting the manager is registered once the actor system has started: a probe does not wait for ever.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(_askTimeout);
            manager = await _manager(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            // Also when the caller's token ended the wait: the health check service cancels it at the registration's
            // timeout, and on a loaded machine that can come before our own, shorter timer is seen. Throwing would make
            // the report say only "a timeout occurred"; the answer below says what is missing.
            var waited = HumanText.Duration(Stopwatch.GetElapsedTime(started));
            return new HealthCheckResult(failure, $"No lock manager was registered within {waited}: the actor system has not started, or WithDynamoLock is missing.", e);
        }

        LockHealthReport report;
        try
        {
            report = await manager.Ask<LockHealthReport>(GetLockHealth.Instance, _askTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            // As above: the caller's timeout may come first, and the answer still says what did not respond.
            return new HealthCheckResult(failure, $"The lock manager did not answer within {HumanText.Duration(Stopwatch.GetElapsedTime(started))}: it is stopped or overloaded.", e);
        }

        return Judge(report, failure);
    }

    /// <summary>What <paramref name="report"/> means for the probe.</summary>
    internal static HealthCheckResult Judge(LockHealthReport report, HealthStatus failure)
    {
        var data = Data(report);
        var counts = $"{report.Held} held, {report.Waiting} waiting";
        if (report.UnreleasedLosses.Count > 0)
        {
            var lost = string.Join(", ", report.UnreleasedLosses.Select(l => $"{HumanText.Key(l.Key)} ({l.Reason}, fencing token {l.FencingToken})"));
            return new HealthCheckResult(failure, $"{report.UnreleasedLosses.Count} lock(s) lost and not yet released by the application: {lost}. {counts}.", data: data);
        }

        var problem = report.CurrentProblem;
        if (problem is { Kind: LockRefusalKind.TableMissing or LockRefusalKind.Misconfigured })
        {
            return new HealthCheckResult(failure, $"The lock table cannot be used ({problem.Kind}): {problem.Message} {counts}.", data: data);
        }

        if (report.FailingHeartbeats.Count > 0)
        {
            return HealthCheckResult.Degraded($"Heartbeats are failing for {string.Join(", ", report.FailingHeartbeats)}, still within the safety margin. {counts}.", data: data);
        }

        if (problem is not null)
        {
            // Only while locks depend on the table: with nothing held or wanted, nothing calls it and the failure would stay "last" for ever.
            var text = $"The lock table's last {problem.Operation} call failed ({problem.Kind}): {problem.Message} {counts}.";
            return report.Held + report.Waiting > 0 ? HealthCheckResult.Degraded(text, data: data) : HealthCheckResult.Healthy(text, data);
        }

        return HealthCheckResult.Healthy(report.ShuttingDown ? $"Releasing locks for shutdown; {counts}." : $"{counts}.", data);
    }

    private static Dictionary<string, object> Data(LockHealthReport report)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["held_locks"] = report.Held,
            ["waiting_locks"] = report.Waiting,
            ["failing_heartbeats"] = report.FailingHeartbeats.ToArray(),
            ["unreleased_losses"] = report.UnreleasedLosses.Select(l => l.Key).ToArray(),
        };
        if (report.LastAnswer != 0)
        {
            data["last_table_answer_seconds_ago"] = Math.Round(Stopwatch.GetElapsedTime(report.LastAnswer).TotalSeconds, 1);
        }

        if (report.LastProblem is { } problem)
        {
            data["last_table_error"] = problem.Message;
            data["last_table_error_kind"] = problem.Kind.ToString();
            data["last_table_error_seconds_ago"] = Math.Round(Stopwatch.GetElapsedTime(problem.At).TotalSeconds, 1);
        }

        return data;
    }
}
