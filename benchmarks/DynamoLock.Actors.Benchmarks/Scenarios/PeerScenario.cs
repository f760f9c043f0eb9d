using System.Diagnostics;
using System.Text.Json;
using DynamoLock.Actors.Benchmarks.Report;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Benchmarks.Scenarios;

/// <summary>The peer client's run: versions, latency series and requests per acquire and release.</summary>
internal sealed record PeerResult(string Node, string AwsSdk, string LockClient, IReadOnlyList<LatencySeries> Series, IReadOnlyList<RoundTripRow> RoundTrips);

/// <summary>
/// Scenario 6: the npm <c>dynamodb-lock-client</c> (with <c>aws-sdk</c> v2) running acquire+release loops against the
/// same server in the same run (<c>benchmarks/peer/bench.js</c>), with its own two-raw-writes limit so that the
/// language and SDK can be told apart from the protocol.
/// </summary>
internal static class PeerScenario
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["raw"] = "aws-sdk v2: two conditional UpdateItem calls (the limit in Node.js)",
        ["fail-open"] = "dynamodb-lock-client FailOpen (lease + heartbeat): acquire+release",
        ["fail-closed"] = "dynamodb-lock-client FailClosed (no lease, never expires): acquire+release",
    };

    public static async Task<PeerResult> RunAsync(string endpoint, BenchmarkOptions options, CancellationToken cancellationToken)
    {
        await LocalDynamoDbTools.EnsureNpmPackagesAsync(options.PeerDirectory, "dynamodb-lock-client").ConfigureAwait(false);
        var output = await RunNodeAsync(options.PeerDirectory, ["bench.js", endpoint, options.LatencyIterations.ToString(), options.LatencyWarmup.ToString()], cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        var versions = root.GetProperty("versions");
        var series = new List<LatencySeries>();
        var roundTrips = new List<RoundTripRow>();
        foreach (var run in root.GetProperty("runs").EnumerateArray())
        {
            var name = run.GetProperty("name").GetString()!;
            var samples = run.GetProperty("latenciesMs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            series.Add(LatencySeries.Of($"peer {name}", Descriptions.GetValueOrDefault(name, name), samples));
            var requests = run.GetProperty("requests");
            foreach (var phase in new[] { "acquire", "release" })
            {
                var counts = requests.GetProperty(phase).EnumerateObject().ToDictionary(p => Capitalise(p.Name), p => p.Value.GetInt32(), StringComparer.Ordinal);
                roundTrips.Add(new RoundTripRow($"peer {name}: {phase} (released key)", counts, "", ""));
            }
        }

        return new PeerResult(versions.GetProperty("node").GetString()!, versions.GetProperty("awsSdk").GetString()!, versions.GetProperty("dynamodbLockClient").GetString()!, series, roundTrips);
    }

    private static string Capitalise(string operation) => operation.Length == 0 ? operation : char.ToUpperInvariant(operation[0]) + operation[1..];

    private static async Task<string> RunNodeAsync(string directory, string[] arguments, CancellationToken cancellationToken)
    {
        const string program = "node";
        var limit = TimeSpan.FromMinutes(10);
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} could not be started; install Node.js.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} in {directory} did not finish within {limit.TotalMinutes:0} minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} in {directory} failed with exit code {process.ExitCode}: {await error.ConfigureAwait(false)}");
        }

        return await output.ConfigureAwait(false);
    }
}
