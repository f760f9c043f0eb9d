using System.Diagnostics;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>Monotonic timestamps (never the wall clock) and the milliseconds between two of them.</summary>
internal static class Timing
{
    public static long Now() => Stopwatch.GetTimestamp();

    /// <summary>The timestamp <paramref name="duration"/> after <paramref name="start"/>.</summary>
    public static long After(long start, TimeSpan duration) => start + (long)(duration.TotalSeconds * Stopwatch.Frequency);

    public static double MillisecondsBetween(long start, long end) => (end - start) * 1000.0 / Stopwatch.Frequency;

    public static double MillisecondsSince(long start) => MillisecondsBetween(start, Now());
}
