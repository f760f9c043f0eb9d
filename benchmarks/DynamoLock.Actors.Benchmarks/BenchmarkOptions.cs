using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Benchmarks;

/// <summary>What to run and how much: <c>--quick</c> runs every scenario with small sample counts (a check that the suite still works).</summary>
internal sealed record BenchmarkOptions
{
    public bool Quick { get; init; }

    /// <summary>Where RESULTS.md, results.json and the charts go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>A DynamoDB API endpoint to use instead of starting a local server.</summary>
    public string? Endpoint { get; init; }

    /// <summary>The local server the scenarios run on (the round-trip counts are also taken on the other one when it starts).</summary>
    public LocalDynamoDbServerKind Server { get; init; } = LocalDynamoDbServerKind.Dynalite;

    /// <summary>The folder holding the peer client's bench.js and its pinned node_modules.</summary>
    public required string PeerDirectory { get; init; }

    /// <summary>Scenario names to run (all when empty).</summary>
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>();

    public int LatencyIterations => Quick ? 100 : 2000;

    public int LatencyWarmup => Quick ? 20 : 200;

    public int HandOffSamples => Quick ? 20 : 200;

    public int CrossNodeHandOffSamples => Quick ? 5 : 40;

    public IReadOnlyList<TimeSpan> FailoverLeases => Quick ? [TimeSpan.FromSeconds(2)] : [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)];

    public int FailoverSamples => Quick ? 1 : 4;

    public IReadOnlyList<int> ScaleLockCounts => Quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];

    /// <summary>The same in session mode, up to a million held locks on one node.</summary>
    public IReadOnlyList<int> SessionScaleLockCounts => Quick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000];

    public TimeSpan HeartbeatCpuWindow => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(15);

    public IReadOnlyList<int> ThroughputKeys => Quick ? [1, 16] : [1, 4, 16, 64];

    public IReadOnlyList<int> ThroughputRequesters => Quick ? [1, 2, 4, 16] : [1, 2, 4, 8, 16];

    public TimeSpan ThroughputWindow => Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(3);

    /// <summary>Keys one node waits on while its reads are counted (notices scenario).</summary>
    public int NoticeReadsKeys => 10;

    /// <summary>How long the waiting node's reads are counted (rounded up to whole refresh periods).</summary>
    public TimeSpan NoticeReadsWindow => Quick ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(60);

    /// <summary>How long three nodes contend for one hot key.</summary>
    public TimeSpan HotKeyWindow => Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(30);

    public bool Runs(string scenario) => Only.Count == 0 || Only.Contains(scenario);

    public static BenchmarkOptions Parse(string[] args)
    {
        var quick = false;
        string? output = null;
        string? endpoint = null;
        string? peer = null;
        var server = LocalDynamoDbServerKind.Dynalite;
        var only = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--output":
                    output = Value(args, ref i);
                    break;
                case "--endpoint":
                    endpoint = Value(args, ref i);
                    if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
                    {
                        throw new ArgumentException($"--endpoint must be an http(s) URL, not '{endpoint}'.");
                    }

                    break;
                case "--server":
                    var serverName = Value(args, ref i);
                    if (!LocalDynamoDbServerKinds.TryParse(serverName, out server))
                    {
                        throw new ArgumentException($"--server must be {string.Join(" or ", LocalDynamoDbServerKinds.Names)}, not '{serverName}'.");
                    }

                    break;
                case "--peer":
                    peer = Value(args, ref i);
                    break;
                case "--only":
                    foreach (var name in Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!Scenarios.Contains(name))
                        {
                            throw new ArgumentException($"--only: unknown scenario '{name}'; known: {string.Join(", ", Scenarios)}.");
                        }

                        only.Add(name);
                    }

                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: [--quick] [--output DIR] [--server dynalite|dynamodb-local] [--endpoint URL] [--peer DIR] [--only {string.Join(",", Scenarios)}]");
            }
        }

        var benchmarks = FindBenchmarksDirectory();
        return new BenchmarkOptions
        {
            Quick = quick,
            OutputDirectory = Path.GetFullPath(output ?? (quick ? Path.Combine(benchmarks, "artifacts", "quick") : benchmarks)),
            Endpoint = endpoint,
            Server = server,
            PeerDirectory = Path.GetFullPath(peer ?? Path.Combine(benchmarks, "peer")),
            Only = only,
        };
    }

    public static readonly IReadOnlyList<string> Scenarios = ["latency", "round-trips", "hand-off", "failover", "scale", "throughput", "sessions", "notices", "peer", "micro", "simulate"];

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");

    private static string FindBenchmarksDirectory()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "benchmarks");
                if (File.Exists(Path.Combine(candidate, "run.sh")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"benchmarks/run.sh was not found above {Environment.CurrentDirectory}; run from a clone of the repository, or pass --output and --peer.");
    }
}
