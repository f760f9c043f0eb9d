using System.Diagnostics;
using System.Text;

namespace DynamoLock.Actors.Benchmarks.Infrastructure;

/// <summary>
/// A <c>dynamolock run --key K -- sleep 600</c> process holding one lock, as a real service would; the failover
/// scenario kills it (SIGKILL, with its child) so that it neither releases nor heartbeats again.
/// </summary>
internal sealed class HolderProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _error = new();

    public HolderProcess(string endpoint, string tableName, string key, TimeSpan lease)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dynamolock.dll"));
        foreach (var argument in new[] { "run", "--endpoint", endpoint, "--table", tableName, "--key", key, "--lease", $"{lease.TotalMilliseconds:0}ms", "--wait", "0", "--", "sleep", "600" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = "local";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "local";
        start.Environment["AWS_REGION"] = "us-east-1";
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_error) { _error.AppendLine(e.Data); } } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>SIGKILL to the holder and the command it runs: no release, no further heartbeat.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public void Dispose()
    {
        try
        {
            Kill();
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
