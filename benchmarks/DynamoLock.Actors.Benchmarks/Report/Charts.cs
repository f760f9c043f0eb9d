using DynamoLock.Actors.Benchmarks.Scenarios;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace DynamoLock.Actors.Benchmarks.Report;

/// <summary>The PNG charts RESULTS.md shows (ScottPlot): latency distributions, failover, memory and throughput.</summary>
internal static class Charts
{
    private const int Width = 900;
    private const int Height = 520;

    /// <summary>Writes every chart the results have data for into <paramref name="directory"/>; returns their file names.</summary>
    public static IReadOnlyList<string> Write(BenchmarkResults results, string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void Save(Plot plot, string name)
        {
            plot.SavePng(Path.Combine(directory, name), Width, Height);
            written.Add(name);
        }

        var latency = results.Latency.Where(s => !s.Name.Contains("in-memory", StringComparison.Ordinal)).Concat(results.Peer?.Series ?? []).ToArray();
        if (latency.Length > 0)
        {
            Save(PercentilePlot($"Acquire + release latency against {results.Environment.ServerName}", latency), "latency.png");
        }

        if (results.HandOff.Count > 0)
        {
            Save(PercentilePlot("Hand-off latency: release to grant at the waiter", results.HandOff), "handoff.png");
        }

        if (results.Failover.Count > 0)
        {
            Save(FailoverPlot(results.Failover), "failover.png");
        }

        if (results.Scale.Count > 0)
        {
            Save(MemoryPlot(results.Scale), "memory.png");
        }

        if (results.Throughput.Count > 0)
        {
            Save(ThroughputPlot(results.Throughput, results.Environment.ServerName), "throughput.png");
        }

        return written;
    }

    /// <summary>Latency by percentile (0 to 99.9), on a logarithmic milliseconds axis so tails and medians both show.</summary>
    private static Plot PercentilePlot(string title, IEnumerable<LatencySeries> series)
    {
        var plot = new Plot();
        var percentiles = Enumerable.Range(0, 1000).Select(i => i / 10.0).ToArray();
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var s in series.Where(s => s.SamplesMs.Length > 0))
        {
            var sorted = s.SamplesMs.Order().ToArray();
            var values = percentiles.Select(p => Math.Log10(Math.Max(LatencySummary.Percentile(sorted, Math.Max(p, 0.001)), 0.001))).ToArray();
            var line = plot.Add.ScatterLine(percentiles, values, palette.GetColor(index++));
            line.LegendText = s.Name;
            line.LineWidth = 2;
        }

        plot.Axes.Left.TickGenerator = LogTicks();
        plot.Title(title);
        plot.XLabel("percentile");
        plot.YLabel("milliseconds (log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot FailoverPlot(IReadOnlyList<FailoverRow> rows)
    {
        var plot = new Plot();
        var xs = rows.SelectMany(r => r.Seconds.Select(_ => r.Lease.TotalSeconds)).ToArray();
        var ys = rows.SelectMany(r => r.Seconds).ToArray();
        var samples = plot.Add.ScatterPoints(xs, ys);
        samples.LegendText = "failover (kill to grant elsewhere)";
        samples.MarkerSize = 9;
        var max = rows.Max(r => r.Lease.TotalSeconds) * 1.1;
        var lease = plot.Add.Line(0, 0, max, max);
        lease.LegendText = "lease duration";
        lease.LinePattern = LinePattern.Dashed;
        plot.Title("Failover time against the lease duration");
        plot.XLabel("lease duration (s)");
        plot.YLabel("seconds from SIGKILL of the holder to the grant");
        plot.Axes.SetLimits(0, max, 0, Math.Max(max, ys.Max() * 1.1));
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot MemoryPlot(IReadOnlyList<ScaleRow> rows)
    {
        var plot = new Plot();
        var positions = Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray();
        var holder = plot.Add.Bars(positions.Select(p => p - 0.2).ToArray(), rows.Select(r => r.HolderBytesPerLock).ToArray());
        holder.LegendText = "lock holder (actors, timers, state)";
        foreach (var bar in holder.Bars)
        {
            bar.Size = 0.4;
        }

        var table = plot.Add.Bars(positions.Select(p => p + 0.2).ToArray(), rows.Select(r => r.TableBytesPerLock).ToArray());
        table.LegendText = "in-memory table record";
        foreach (var bar in table.Bars)
        {
            bar.Size = 0.4;
        }

        var target = plot.Add.HorizontalLine(2048);
        target.LegendText = "target: 2 KB per held lock";
        target.LinePattern = LinePattern.Dashed;
        plot.Axes.Bottom.SetTicks(positions, rows.Select(r => r.Sessions ? $"{r.Locks:N0}\nsession mode" : $"{r.Locks:N0}").ToArray());

        // Room above the bars for the legend.
        plot.Axes.SetLimitsY(0, Math.Max(2048, rows.Max(r => r.HolderBytesPerLock)) * 1.4);
        plot.Title("Managed memory per idle held lock (one LockManager)");
        plot.YLabel("bytes per lock");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static Plot ThroughputPlot(IReadOnlyList<ThroughputCell> cells, string server)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var group in cells.GroupBy(c => c.Keys).OrderBy(g => g.Key))
        {
            var ordered = group.OrderBy(c => c.Requesters).ToArray();
            var line = plot.Add.Scatter(ordered.Select(c => (double)c.Requesters).ToArray(), ordered.Select(c => c.OpsPerSecond).ToArray(), palette.GetColor(index++));
            line.LegendText = group.Key == 1 ? "1 key" : $"{group.Key} keys";
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }

        plot.Title($"Acquire + release throughput against {server} (one node)");
        plot.XLabel("concurrent requesters");
        plot.YLabel("acquire+release pairs per second");
        plot.Axes.SetLimitsY(0, cells.Max(c => c.OpsPerSecond) * 1.25);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = y => Math.Pow(10, y).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
    };
}
