using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace DynamoLock.Actors.Chaos;

/// <summary>
/// A local DynamoDB API server from <c>tools/local-dynamodb</c>, started in memory on 127.0.0.1 by one of its node
/// scripts (<c>serve.js</c> for dynalite, <c>serve-dynamodb-local.js</c> for DynamoDB Local), which prints
/// <c>listening on 127.0.0.1:PORT</c> once the server answers. Dispose stops it by its process id (with its process
/// tree: DynamoDB Local's Java process is the script's child); the script also exits by itself when this process's
/// end of its standard input closes, so a test run that dies does not leave a server behind.
/// </summary>
public abstract partial class LocalDynamoDbServer : IDisposable
{
    /// <summary>The exit code of <c>serve-dynamodb-local.js</c> when no Java runtime was found.</summary>
    private const int JavaMissingExitCode = 3;

    private readonly Process _process;

    private protected LocalDynamoDbServer(Process process, string endpoint, LocalDynamoDbServerKind kind)
    {
        _process = process;
        Endpoint = endpoint;
        Kind = kind;
    }

    /// <summary>The server's URL, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Endpoint { get; }

    /// <summary>The port it listens on.</summary>
    public int Port => new Uri(Endpoint).Port;

    /// <summary>Which server this is.</summary>
    public LocalDynamoDbServerKind Kind { get; }

    /// <summary>The id of the node process that runs (or, for DynamoDB Local, supervises) the server.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Installs the chosen server if needed and starts it on <paramref name="port"/> (0: a free port).</summary>
    public static async Task<LocalDynamoDbServer> StartAsync(LocalDynamoDbServerKind kind, int port = 0, CancellationToken cancellationToken = default) => kind switch
    {
        LocalDynamoDbServerKind.Dynalite => await LocalDynalite.StartAsync(port, cancellationToken).ConfigureAwait(false),
        LocalDynamoDbServerKind.DynamoDbLocal => await LocalDynamoDbLocal.StartAsync(port, cancellationToken).ConfigureAwait(false),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>A client for the server with fixed local credentials (local servers accept any).</summary>
    public AmazonDynamoDBClient CreateClient(int maxErrorRetry = 2) => new(
        new BasicAWSCredentials("local", "local"),
        new AmazonDynamoDBConfig { ServiceURL = Endpoint, AuthenticationRegion = "us-east-1", MaxErrorRetry = maxErrorRetry, Timeout = TimeSpan.FromSeconds(10) });

    /// <summary>Completes with the exit code if the server stops on its own (it normally runs until disposed).</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stop(_process);
        _process.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs <c>node SCRIPT PORT --exit-with-stdin</c> in <c>tools/local-dynamodb</c> and waits until the server answers.</summary>
    private protected static async Task<(Process Process, string Endpoint)> StartScriptAsync(string script, string name, int port, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = LocalDynamoDbTools.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--exit-with-stdin");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started; install Node.js.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"node could not be started ({e.Message}); install Node.js 20.", e);
        }

        // Keep the last lines of its standard error for the error message; drain the rest so the pipe never fills.
        var errors = new StringBuilder();
        var errorDrain = DrainAsync(process.StandardError, errors);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(startTimeout);
        try
        {
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false)) is not null)
            {
                if (ListeningLine().Match(line) is { Success: true } match)
                {
                    _ = DrainAsync(process.StandardOutput, null);
                    var endpoint = $"http://127.0.0.1:{match.Groups["port"].Value}";
                    await WaitUntilAnsweringAsync(endpoint, process, timeout.Token).ConfigureAwait(false);
                    return (process, endpoint);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Stop(process);
            throw new TimeoutException($"{name} did not start within {startTimeout.TotalSeconds:0} s: {Tail(errors)}");
        }
        catch
        {
            Stop(process);
            throw;
        }

        await Task.WhenAny(errorDrain, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        var exitCode = process.WaitForExit(5000) ? process.ExitCode : -1;
        Stop(process);
        if (exitCode == JavaMissingExitCode)
        {
            throw new InvalidOperationException($"{name} needs a Java 17 runtime and none was found: install openjdk-17-jre-headless (or set JAVA_HOME).");
        }

        throw new InvalidOperationException($"{name} did not start (exit code {exitCode}): {Tail(errors)}");
    }

    // The scripts print their line once the server answers; one ListTables from here proves it answers this process too.
    private static async Task WaitUntilAnsweringAsync(string endpoint, Process process, CancellationToken cancellationToken)
    {
        using var client = new AmazonDynamoDBClient(
            new BasicAWSCredentials("local", "local"),
            new AmazonDynamoDBConfig { ServiceURL = endpoint, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0, Timeout = TimeSpan.FromSeconds(5) });
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.ListTablesAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException && !process.HasExited && attempt < 50)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string Tail(StringBuilder errors)
    {
        lock (errors)
        {
            var text = errors.ToString().Trim();
            return text.Length > 2000 ? "…" + text[^2000..] : text;
        }
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

    private static async Task DrainAsync(StreamReader reader, StringBuilder? into)
    {
        try
        {
            string? line;
            while ((line = await reader.ReadLineAsync().ConfigureAwait(false)) is not null)
            {
                if (into is not null)
                {
                    lock (into)
                    {
                        into.AppendLine(line);
                        if (into.Length > 16_000)
                        {
                            into.Remove(0, into.Length - 8_000);
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
