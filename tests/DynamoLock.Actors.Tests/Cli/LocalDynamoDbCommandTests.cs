using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using DynamoLock.Actors.Chaos;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Cli;

/// <summary>
/// <c>dynamolock local-dynamodb</c> as a developer runs it: it starts the server <c>DYNAMOLOCK_LOCAL_SERVER</c> names (so
/// each CI pass checks the command with its own server), prints the port, serves requests and stops on SIGTERM.
/// </summary>
[Trait("Category", "DynamoDB")]
public sealed partial class LocalDynamoDbCommandTests : IDisposable
{
    private readonly DynamoLockCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task It_prints_the_port_serves_DynamoDB_requests_and_stops_on_SIGTERM()
    {
        var kind = LocalDynamoDbServerKinds.FromEnvironment();
        var (process, output, error) = _cli.Start("local-dynamodb", "--server", kind.Name());

        var endpoint = await WaitForEndpointAsync(process, output, error, TimeSpan.FromMinutes(3));
        using (var client = new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), new AmazonDynamoDBConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1" }))
        {
            var table = $"cli-local-{Guid.NewGuid():N}";
            await client.CreateTableAsync(new CreateTableRequest
            {
                TableName = table,
                AttributeDefinitions = [new() { AttributeName = "key", AttributeType = ScalarAttributeType.S }],
                KeySchema = [new() { AttributeName = "key", KeyType = KeyType.HASH }],
                BillingMode = BillingMode.PAY_PER_REQUEST,
            });
            Assert.Contains(table, (await client.ListTablesAsync()).TableNames);
        }

        using (var terminate = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await terminate.WaitForExitAsync();
        }

        var result = await DynamoLockCli.WaitAsync(process, output, error);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("AWS_ENDPOINT_URL_DYNAMODB=" + endpoint, result.Error, StringComparison.Ordinal);
        Assert.Equal([$"listening on {endpoint}"], result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        await AssertClosedAsync(new Uri(endpoint).Port, TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_port_out_of_range_is_a_usage_error()
    {
        var result = await _cli.RunAsync("local-dynamodb", "--port", "70000");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--port", result.Error, StringComparison.Ordinal);
    }

    private static async Task<string> WaitForEndpointAsync(Process process, System.Text.StringBuilder output, System.Text.StringBuilder error, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            lock (output)
            {
                if (ListeningLine().Match(output.ToString()) is { Success: true } match)
                {
                    return match.Groups["endpoint"].Value;
                }
            }

            Assert.False(process.HasExited, $"dynamolock local-dynamodb exited with {(process.HasExited ? process.ExitCode : 0)}: {error}");
            Assert.True(Stopwatch.GetElapsedTime(started) < timeout, $"no 'listening on' line within {timeout}: {error}");
            await Task.Delay(100);
        }
    }

    // The server (and, for DynamoDB Local, its Java child) must be gone, not merely the CLI process.
    private static async Task AssertClosedAsync(int port, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                return;
            }

            Assert.True(Stopwatch.GetElapsedTime(started) < timeout, $"port {port} still accepts connections {timeout} after SIGTERM");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"listening on (?<endpoint>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
