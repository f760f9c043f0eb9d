namespace DynamoLock.Actors.Chaos;

/// <summary>dynalite (the DynamoDB API server pinned in <c>tools/local-dynamodb</c>) started in memory on 127.0.0.1.</summary>
public sealed class LocalDynalite : LocalDynamoDbServer
{
    private LocalDynalite(System.Diagnostics.Process process, string endpoint)
        : base(process, endpoint, LocalDynamoDbServerKind.Dynalite)
    {
    }

    /// <summary>Installs dynalite if needed (<c>npm ci</c>) and starts it on <paramref name="port"/> (0: a free port the OS picks).</summary>
    public static async Task<LocalDynalite> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        await LocalDynamoDbTools.EnsureInstalledAsync().ConfigureAwait(false);
        var (process, endpoint) = await StartScriptAsync("serve.js", "dynalite", port, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        return new LocalDynalite(process, endpoint);
    }

    /// <summary>Starts dynalite on a free port.</summary>
    public static Task<LocalDynalite> StartAsync(CancellationToken cancellationToken) => StartAsync(0, cancellationToken);
}
