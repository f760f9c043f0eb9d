using DynamoLock.Actors.Core;

namespace DynamoLock.Actors.Chaos.Simulation;

/// <summary>
/// The wall clock the simulated table stamps <c>heartbeatAt</c> with (display only): virtual time from a fixed epoch, so a
/// run's records are the same on every machine.
/// </summary>
internal sealed class VirtualTimeProvider(Func<long> ticks) : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(ticks());
}

/// <summary>
/// A node's seeded entropy: record version numbers that are unique in the run (the owner name makes them unique across
/// nodes and incarnations) and jitter from the node's own generator.
/// </summary>
internal sealed class SimulatedEntropy(string ownerName, Random random) : ILockCoreEntropy
{
    private long _next;

    public string NextRecordVersionNumber() => $"{ownerName}:{++_next}";

    public double NextDouble() => random.NextDouble();
}

/// <summary>
/// A node's monotonic clock: virtual time scaled by the node's rate, from an arbitrary origin (so the core cannot rely on
/// its clock starting at zero).
/// </summary>
internal readonly record struct NodeClock(double Rate, long OriginTicks)
{
    public TimeSpan Now(long virtualTicks) => TimeSpan.FromTicks(OriginTicks + (long)(virtualTicks * Rate));

    /// <summary>The first virtual moment at which this clock reads at least <paramref name="at"/>.</summary>
    public long VirtualAt(TimeSpan at)
    {
        var v = (long)Math.Ceiling((at.Ticks - OriginTicks) / Rate);
        while (Now(v) < at)
        {
            v++;
        }

        return Math.Max(0, v);
    }
}
