using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DynamoLock.Actors.Hosting;

/// <summary>Registers <see cref="DynamoLockHealthCheck"/>: <c>services.AddHealthChecks().AddDynamoLock()</c>.</summary>
public static class DynamoLockHealthCheckExtensions
{
    /// <summary>
    /// Adds the health of the <see cref="LockManager"/> registered with <c>WithDynamoLock</c> (Akka.Hosting). Until the
    /// actor system has started, the check waits for the manager (up to the registration's timeout, when one is set).
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name; default <c>dynamolock</c>.</param>
    /// <param name="failureStatus">What a failure reports; default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>ready</c> or <c>live</c>).</param>
    /// <param name="timeout">How long the check may take (it waits for the manager 80 % of it); default: it waits up to 5 s.</param>
    public static IHealthChecksBuilder AddDynamoLock(
        this IHealthChecksBuilder builder,
        string name = "dynamolock",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            provider =>
            {
                var manager = provider.GetRequiredService<IRequiredActor<LockManager>>();
                // Within the registration's timeout, so that the check says what is wrong before the service gives up on it.
                return new DynamoLockHealthCheck(manager.GetAsync, timeout * 0.8);
            },
            failureStatus,
            tags,
            timeout));
    }
}
