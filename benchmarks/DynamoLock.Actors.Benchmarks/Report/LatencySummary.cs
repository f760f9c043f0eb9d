using System.Text.Json.Serialization;

namespace DynamoLock.Actors.Benchmarks.Report;

/// <summary>A latency distribution's summary, in milliseconds (nearest-rank percentiles).</summary>
internal sealed record LatencySummary(int Count, double MeanMs, double P50Ms, double P90Ms, double P99Ms, double MaxMs)
{
    public static LatencySummary Of(IReadOnlyCollection<double> samplesMs)
    {
        if (samplesMs.Count == 0)
        {
            return new LatencySummary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var sorted = samplesMs.Order().ToArray();
        return new LatencySummary(sorted.Length, sorted.Average(), Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99), sorted[^1]);
    }

    /// <summary>The nearest-rank percentile of sorted samples.</summary>
    public static double Percentile(double[] sorted, double percentile)
    {
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>One measured latency distribution with its raw samples (kept for the charts).</summary>
internal sealed record LatencySeries(string Name, string Description, LatencySummary Summary, [property: JsonIgnore] double[] SamplesMs)
{
    public static LatencySeries Of(string name, string description, IReadOnlyCollection<double> samplesMs) =>
        new(name, description, LatencySummary.Of(samplesMs), samplesMs.ToArray());
}
