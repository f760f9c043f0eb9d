using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Cli;

/// <summary>A machine with no AWS region and no endpoint gets an error that says what to set, not the SDK's bare words.</summary>
public sealed class MissingRegionTests : IDisposable
{
    private readonly DynamoLockCli _cli = new();
    private readonly string _home = Directory.CreateTempSubdirectory("dynamolock-no-aws-").FullName;

    public void Dispose()
    {
        _cli.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task A_command_without_a_region_or_an_endpoint_says_what_to_set()
    {
        var result = await _cli.RunAsync(
            new Dictionary<string, string?>
            {
                ["AWS_REGION"] = null,
                ["AWS_DEFAULT_REGION"] = null,
                ["AWS_ENDPOINT_URL"] = null,
                ["AWS_ENDPOINT_URL_DYNAMODB"] = null,
                ["HOME"] = _home,
                ["AWS_CONFIG_FILE"] = Path.Combine(_home, "config"),
                ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_home, "credentials"),
                ["AWS_EC2_METADATA_DISABLED"] = "true",
            },
            "list",
            "--table",
            "locks");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("No AWS region is configured", result.Error, StringComparison.Ordinal);
        Assert.Contains("AWS_REGION", result.Error, StringComparison.Ordinal);
        Assert.Contains("--region", result.Error, StringComparison.Ordinal);
    }
}
