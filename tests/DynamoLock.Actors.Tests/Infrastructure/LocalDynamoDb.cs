using Amazon.DynamoDBv2;
using Amazon.Runtime;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>
/// The real DynamoDB API server the integration tests talk to, one per test process, started on first use:
/// <list type="number">
/// <item><c>DYNAMOLOCK_DYNAMODB_ENDPOINT</c> when set (nothing is started);</item>
/// <item>else <c>amazon/dynamodb-local</c> through Testcontainers when a Docker engine answers;</item>
/// <item>else dynalite from <c>tools/local-dynamodb</c> (installed with <c>npm ci</c> if needed) on a free 127.0.0.1 port,
/// stopped by its process id when the test process exits.</item>
/// </list>
/// </summary>
public sealed class LocalDynamoDb
{
    public const string EndpointVariable = "DYNAMOLOCK_DYNAMODB_ENDPOINT";

    private static readonly Lazy<Task<LocalDynamoDb>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private LocalDynamoDb(string endpoint, string description)
    {
        Endpoint = endpoint;
        Description = description;
    }

    /// <summary>The server's URL.</summary>
    public string Endpoint { get; }

    /// <summary>What the server is, for test output.</summary>
    public string Description { get; }

    /// <summary>The process id of the dynalite process this test run started, if any.</summary>
    public int? ProcessId { get; private set; }

    /// <summary>The shared server, started on first use.</summary>
    public static Task<LocalDynamoDb> GetAsync() => Shared.Value;

    /// <summary>A client for the server; pass an <paramref name="httpClientFactory"/> to observe or disturb its HTTP traffic.</summary>
    public AmazonDynamoDBClient CreateClient(HttpClientFactory? httpClientFactory = null, int maxErrorRetry = 2)
    {
        var config = new AmazonDynamoDBConfig
        {
            ServiceURL = Endpoint,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = maxErrorRetry,
            Timeout = TimeSpan.FromSeconds(10),
        };
        if (httpClientFactory is not null)
        {
            config.HttpClientFactory = httpClientFactory;
        }

        return new AmazonDynamoDBClient(new BasicAWSCredentials("local", "local"), config);
    }

    private static async Task<LocalDynamoDb> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } endpoint)
        {
            return new LocalDynamoDb(endpoint.TrimEnd('/'), $"{EndpointVariable}={endpoint}");
        }

        if (DockerMayAnswer())
        {
            try
            {
                return await StartDynamoDbLocalContainerAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"amazon/dynamodb-local could not be started ({e.GetType().Name}: {e.Message}); using dynalite.");
            }
        }

        return await StartDynaliteAsync().ConfigureAwait(false);
    }

    private static bool DockerMayAnswer() =>
        Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } || File.Exists("/var/run/docker.sock");

    private static async Task<LocalDynamoDb> StartDynamoDbLocalContainerAsync()
    {
        IContainer container = new ContainerBuilder("amazon/dynamodb-local:2.5.2")
            .WithCommand("-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb")
            .WithPortBinding(8000, assignRandomHostPort: true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilInternalTcpPortIsAvailable(8000))
            .Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await container.StartAsync(timeout.Token).ConfigureAwait(false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        var endpoint = $"http://{container.Hostname}:{container.GetMappedPublicPort(8000)}";
        return new LocalDynamoDb(endpoint, $"amazon/dynamodb-local at {endpoint}");
    }

    private static async Task<LocalDynamoDb> StartDynaliteAsync()
    {
        var dynalite = await LocalDynalite.StartAsync().ConfigureAwait(false);

        // Stop it by its process id however the test process ends normally; serve.js also exits when our stdin pipe closes.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => dynalite.Dispose();
        return new LocalDynamoDb(dynalite.Endpoint, $"dynalite (pid {dynalite.ProcessId}) at {dynalite.Endpoint}") { ProcessId = dynalite.ProcessId };
    }

}
