using System.Diagnostics;
using System.Text.RegularExpressions;

namespace DynamoLock.Actors.Chaos;

/// <summary>
/// dynalite (the DynamoDB API server pinned in <c>tools/local-dynamodb</c>) started in memory on a free 127.0.0.1 port.
/// Dispose stops it by its process id; it also exits by itself when this process's end of its standard input closes.
/// </summary>
public sealed partial class LocalDynalite : IDisposable
{
    private readonly Process _process;

    private LocalDynalite(Process process, string endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    /// <summary>The server's URL.</summary>
    public string Endpoint { get; }

    /// <summary>The node process's id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Installs dynalite if needed (<c>npm ci</c>) and starts it.</summary>
    public static async Task<LocalDynalite> StartAsync(CancellationToken cancellationToken = default)
    {
        await LocalDynamoDbTools.EnsureInstalledAsync().ConfigureAwait(false);
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = LocalDynamoDbTools.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("serve.js");
        var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started; install Node.js.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false)) is not null)
        {
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                _ = DrainAsync(process.StandardOutput);
                _ = DrainAsync(process.StandardError);
                return new LocalDynalite(process, $"http://127.0.0.1:{match.Groups["port"].Value}");
            }
        }

        var error = await process.StandardError.ReadToEndAsync(CancellationToken.None).ConfigureAwait(false);
        var exitCode = process.HasExited ? process.ExitCode : -1;
        Stop(process);
        throw new InvalidOperationException($"dynalite did not start (exit code {exitCode}): {error}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stop(_process);
        _process.Dispose();
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static async Task DrainAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is not null)
            {
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
