using DynamoLock.Actors.Benchmarks.Micro;
using DynamoLock.Actors.Benchmarks.Scenarios;

namespace DynamoLock.Actors.Benchmarks.Report;

/// <summary>Where and how a run was made.</summary>
/// <remarks><see cref="Server"/> describes the server the scenarios ran on; <see cref="ServerName"/> is its short name for titles.</remarks>
internal sealed record RunEnvironment(DateTimeOffset Date, bool Quick, string Os, string Cpu, int Cores, string Runtime, string Server, string Commit, string ServerName = "dynalite");

/// <summary>Everything one run measured; scenarios that were not run stay empty.</summary>
internal sealed class BenchmarkResults
{
    public required RunEnvironment Environment { get; init; }

    public TimeSpan Duration { get; set; }

    public IReadOnlyList<LatencySeries> Latency { get; set; } = [];

    public IReadOnlyList<RoundTripRow> RoundTrips { get; set; } = [];

    public IReadOnlyList<LatencySeries> HandOff { get; set; } = [];

    /// <summary>Where the time of each cross-node hand-off row with notices on the server goes.</summary>
    public IReadOnlyList<HandOffPartsRow> HandOffParts { get; set; } = [];

    public IReadOnlyList<FailoverRow> Failover { get; set; } = [];

    public IReadOnlyList<ScaleRow> Scale { get; set; } = [];

    public SessionResults? Sessions { get; set; }

    public IReadOnlyList<ThroughputCell> Throughput { get; set; } = [];

    public NoticeResults? Notices { get; set; }

    public PeerResult? Peer { get; set; }

    public SimulatorResult? Simulator { get; set; }

    public IReadOnlyList<MicroRow> Micro { get; set; } = [];

    /// <summary>A latency series by name, from this library's or the peer's runs.</summary>
    public LatencySeries? Series(string name) =>
        Latency.Concat(Peer?.Series ?? []).Concat(HandOff).FirstOrDefault(s => s.Name == name);
}
