using System.Diagnostics;
using System.Text;

namespace DynamoLock.Actors.Tests.Infrastructure;

/// <summary>The outcome of one <c>dynamolock</c> run.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>
/// Starts the built <c>dynamolock</c> tool (copied next to the tests) as a separate process, the way an operator
/// would, and stops any process it started by its process id.
/// </summary>
public sealed class DynamoLockCli : IDisposable
{
    private readonly List<Process> _started = [];

    /// <summary>Starts <c>dynamolock ARGS</c>; its output is collected in the returned builders.</summary>
    public (Process Process, StringBuilder Output, StringBuilder Error) Start(params string[] args) => Start(null, args);

    /// <summary>
    /// Starts <c>dynamolock ARGS</c> with <paramref name="environment"/> applied over the tests' defaults (a
    /// <see langword="null"/> value removes the variable); its output is collected in the returned builders.
    /// </summary>
    public (Process Process, StringBuilder Output, StringBuilder Error) Start(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dynamolock.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // No stray AWS configuration from the machine: the tests pass --endpoint, and local servers accept any credentials.
        start.Environment["AWS_ACCESS_KEY_ID"] = "local";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "local";
        start.Environment["AWS_REGION"] = "us-east-1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        lock (_started)
        {
            _started.Add(process);
        }

        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (error) { error.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, output, error);
    }

    /// <summary>Runs <c>dynamolock ARGS</c> to completion.</summary>
    public Task<CliResult> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>Runs <c>dynamolock ARGS</c> to completion with <paramref name="environment"/> (see <see cref="Start(IReadOnlyDictionary{string, string?}?, string[])"/>).</summary>
    public async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var (process, output, error) = Start(environment, args);
        return await WaitAsync(process, output, error).ConfigureAwait(false);
    }

    /// <summary>Waits for a started run to end (at most 60 s).</summary>
    public static async Task<CliResult> WaitAsync(Process process, StringBuilder output, StringBuilder error)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Exited but its output still open means something it started still holds the pipe.
            throw new TimeoutException($"dynamolock did not end within 60 s (exited: {process.HasExited}); output: {output}; error: {error}");
        }

        process.WaitForExit(); // flushes the asynchronous output readers
        lock (output)
        {
            lock (error)
            {
                return new CliResult(process.ExitCode, output.ToString(), error.ToString());
            }
        }
    }

    public void Dispose()
    {
        lock (_started)
        {
            foreach (var process in _started)
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
                }

                process.Dispose();
            }
        }
    }
}
