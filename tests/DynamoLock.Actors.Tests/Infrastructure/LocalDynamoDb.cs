using Amazon.DynamoDBv2;
using Amazon.Runtime;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DynamoLock.Actors.Chaos;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>
/// The real DynamoDB API server the integration tests talk to, one per test process, started on first use:
/// <list type="number">
/// <item><c>DYNAMOLOCK_DYNAMODB_ENDPOINT</c> when set (nothing is started; <c>DYNAMOLOCK_LOCAL_SERVER</c> then says which
/// server it is, dynalite when unset);</item>
/// <item>else the server <c>DYNAMOLOCK_LOCAL_SERVER</c> names from <c>tools/local-dynamodb</c>: <c>dynalite</c> (the default)
/// or <c>dynamodb-local</c> (AWS's DynamoDB Local, needs Java 17), installed if needed, on a free 127.0.0.1 port, stopped
/// by its process id when the test process exits;</item>
/// <item><c>DYNAMOLOCK_LOCAL_SERVER=docker</c>: <c>amazon/dynamodb-local</c> through Testcontainers, where a Docker engine answers.</item>
/// </list>
/// </summary>
public sealed class LocalDynamoDb
{
    public const string EndpointVariable = "DYNAMOLOCK_DYNAMODB_ENDPOINT";

    private static readonly Lazy<Task<LocalDynamoDb>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private LocalDynamoDb(string endpoint, LocalDynamoDbServerKind server, string description)
    {
        Endpoint = endpoint;
        Server = server;
        Description = description;
    }

    /// <summary>The server's URL.</summary>
    public string Endpoint { get; }

    /// <summary>Which server it is, for tests whose expectations differ between the two (see tools/local-dynamodb/README.md).</summary>
    public LocalDynamoDbServerKind Server { get; }

    /// <summary>Whether a failed conditional write returns the stored item (DynamoDB and DynamoDB Local do; dynalite does not).</summary>
    public bool ReturnsItemOnConditionFailure => Server.ReturnsItemOnConditionFailure();

    /// <summary>What the server is, for test output.</summary>
    public string Description { get; }

    /// <summary>The process id of the server process this test run started, if any.</summary>
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
        var requested = Environment.GetEnvironmentVariable(LocalDynamoDbServerKinds.EnvironmentVariable);
        var docker = string.Equals(requested?.Trim(), "docker", StringComparison.OrdinalIgnoreCase);
        if (Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } endpoint)
        {
            var kind = docker ? LocalDynamoDbServerKind.DynamoDbLocal : LocalDynamoDbServerKinds.FromEnvironment();
            return new LocalDynamoDb(endpoint.TrimEnd('/'), kind, $"{EndpointVariable}={endpoint} ({kind.DisplayName()})");
        }

        if (docker)
        {
            return await StartDynamoDbLocalContainerAsync().ConfigureAwait(false);
        }

        var server = await LocalDynamoDbServer.StartAsync(LocalDynamoDbServerKinds.FromEnvironment()).ConfigureAwait(false);

        // Stop it by its process id however the test process ends normally; the node script also exits (stopping Java)
        // when our end of its stdin pipe closes, which covers a test host that is killed.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return new LocalDynamoDb(server.Endpoint, server.Kind, $"{server.Kind.DisplayName()} (pid {server.ProcessId}) at {server.Endpoint}") { ProcessId = server.ProcessId };
    }

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
        return new LocalDynamoDb(endpoint, LocalDynamoDbServerKind.DynamoDbLocal, $"amazon/dynamodb-local at {endpoint}");
    }
}
