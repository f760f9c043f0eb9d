using System.Diagnostics;
using System.Text.RegularExpressions;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace DynamoLock.Actors.Tests.Docs;

/// <summary>
/// The README's C# is the code of the examples, compiled by the build and run here: every <c>csharp</c> block in the
/// README stands under a <c>&lt;!-- snippet: NAME --&gt;</c> marker and equals the region <c>// snippet: NAME</c> …
/// <c>// end snippet</c> of a file under <c>examples/</c>; and examples/QuickStart runs to exit 0 on the in-memory table
/// and on the real local DynamoDB with no AWS credentials set.
/// </summary>
public sealed partial class QuickStartTests(ITestOutputHelper output)
{
    private static readonly string Root = RepositoryRoot.Path;

    [Fact]
    public void Every_csharp_block_in_the_readme_is_a_snippet_of_an_example()
    {
        var readme = File.ReadAllText(Path.Combine(Root, "README.md")).ReplaceLineEndings("\n");
        var regions = ExampleRegions();
        var blocks = CsharpBlock().Matches(readme);

        Assert.NotEmpty(blocks);
        foreach (Match block in blocks)
        {
            var name = block.Groups["name"].Value;
            Assert.True(name.Length > 0, $"A csharp block in README.md has no <!-- snippet: NAME --> marker above it:\n{block.Groups["code"].Value}");
            Assert.True(regions.TryGetValue(name, out var region), $"README.md shows snippet '{name}', which no file under examples/ defines.");
            Assert.Equal(region, Dedent(block.Groups["code"].Value));
        }
    }

    [Fact]
    public async Task QuickStart_runs_on_the_in_memory_table()
    {
        var result = await RunQuickStartAsync(new Dictionary<string, string?> { ["AWS_ENDPOINT_URL_DYNAMODB"] = null });

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Output}\n{result.Error}");
        Assert.Contains("quickstart: every step did what it says", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "DynamoDB")]
    public async Task QuickStart_runs_on_a_local_dynamodb_without_aws_credentials()
    {
        var server = await LocalDynamoDb.GetAsync();
        var result = await RunQuickStartAsync(new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL_DYNAMODB"] = server.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = null,
            ["AWS_SECRET_ACCESS_KEY"] = null,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_PROFILE"] = null,
            ["AWS_REGION"] = null,
            ["AWS_DEFAULT_REGION"] = null,

            // No shared credentials file or instance metadata to fall back on: only the local-endpoint rule can help.
            ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(Path.GetTempPath(), $"no-credentials-{Guid.NewGuid():N}"),
            ["AWS_CONFIG_FILE"] = Path.Combine(Path.GetTempPath(), $"no-config-{Guid.NewGuid():N}"),
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        });

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Output}\n{result.Error}");
        Assert.Contains("quickstart: every step did what it says", result.Output, StringComparison.Ordinal);
    }

    private async Task<CliResult> RunQuickStartAsync(Dictionary<string, string?> environment)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;   // bin/<Configuration>/net10.0
        var dll = Path.Combine(Root, "examples", "QuickStart", "bin", configuration, "net10.0", "QuickStart.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project's build builds it (ProjectReference).");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var result = new CliResult(process.ExitCode, await stdout, await stderr);
        output.WriteLine(result.Output);
        output.WriteLine(result.Error);
        return result;
    }

    private static Dictionary<string, string> ExampleRegions()
    {
        var regions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "examples"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            foreach (Match region in Region().Matches(File.ReadAllText(file).ReplaceLineEndings("\n")))
            {
                Assert.True(regions.TryAdd(region.Groups["name"].Value, Dedent(region.Groups["code"].Value)), $"Snippet '{region.Groups["name"].Value}' is defined twice.");
            }
        }

        return regions;
    }

    private static string Dedent(string code)
    {
        var lines = code.TrimEnd().Split('\n').SkipWhile(string.IsNullOrWhiteSpace).ToList();
        var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..].TrimEnd() : l.TrimEnd()));
    }

    [GeneratedRegex(@"(?:<!-- snippet: (?<name>[\w-]+) -->\n)?```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CsharpBlock();

    [GeneratedRegex(@"^[ \t]*// snippet: (?<name>[\w-]+)\n(?<code>.*?)^[ \t]*// end snippet", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Region();
}
