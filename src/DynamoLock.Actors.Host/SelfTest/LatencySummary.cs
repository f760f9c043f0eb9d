using DynamoLock.Actors.Host.Commands;

namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>Percentiles of round-trip times (nearest rank), for the latency lines.</summary>
internal sealed record LatencySummary(int Count, TimeSpan P50, TimeSpan P90, TimeSpan P99, TimeSpan Max)
{
    /// <summary>The summary of <paramref name="samples"/> (at least one).</summary>
    public static LatencySummary Of(IReadOnlyCollection<TimeSpan> samples)
    {
        ArgumentOutOfRangeException.ThrowIfZero(samples.Count);
        var sorted = samples.Order().ToArray();
        TimeSpan Rank(double percentile) => sorted[Math.Max(0, (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1)];
        return new LatencySummary(sorted.Length, Rank(50), Rank(90), Rank(99), sorted[^1]);
    }

    /// <summary>A duration to a hundredth of a millisecond (finer is noise), in the tool's one style.</summary>
    public static string Format(TimeSpan value) => Durations.Format(TimeSpan.FromMilliseconds(Math.Round(value.TotalMilliseconds, 2)));

    /// <inheritdoc />
    public override string ToString() => $"p50 {Format(P50)}, p90 {Format(P90)}, p99 {Format(P99)}, max {Format(Max)} over {Count} round{(Count == 1 ? string.Empty : "s")}";
}
