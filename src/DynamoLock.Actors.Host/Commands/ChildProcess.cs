using System.Diagnostics;
using System.Globalization;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// Starts the command of <c>dynamolock run</c> in a process group of its own (through <c>setsid</c> where it exists), so
/// that stopping it reaches everything it started: SIGTERM to the group, then SIGKILL to the group after a grace period.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly Lazy<string?> Setsid = new(() => FindOnPath("setsid"));
    private readonly Process _process;
    private readonly bool _ownGroup;

    private ChildProcess(Process process, bool ownGroup)
    {
        _process = process;
        _ownGroup = ownGroup;
    }

    public int ExitCode => _process.ExitCode;

    public static ChildProcess Start(string[] commandLine, IReadOnlyDictionary<string, string> environment)
    {
        var ownGroup = !OperatingSystem.IsWindows() && Setsid.Value is not null;
        var start = new ProcessStartInfo(ownGroup ? Setsid.Value! : commandLine[0]) { UseShellExecute = false };
        foreach (var argument in ownGroup ? commandLine : commandLine.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("the process did not start.");
        return new ChildProcess(process, ownGroup);
    }

    public Task WaitForExitAsync() => _process.WaitForExitAsync();

    /// <summary>SIGTERM to the command's process group; after <paramref name="grace"/>, SIGKILL to the group (and the tree).</summary>
    public async Task TerminateAsync(TimeSpan grace)
    {
        if (!OperatingSystem.IsWindows() && await SignalAsync("TERM").ConfigureAwait(false))
        {
            try
            {
                await _process.WaitForExitAsync().WaitAsync(grace).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // It did not stop in time: killed below.
            }
        }

        // The group's other members (children the command left behind) go too, whether or not the command itself stopped.
        if (_ownGroup)
        {
            await SignalAsync("KILL").ConfigureAwait(false);
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose() => _process.Dispose();

    /// <summary>Sends a signal with kill(1) (.NET can only SIGKILL): to the process group when the command has its own.</summary>
    private async Task<bool> SignalAsync(string signal)
    {
        try
        {
            var target = (_ownGroup ? -_process.Id : _process.Id).ToString(CultureInfo.InvariantCulture);
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, "--", target }, UseShellExecute = false, RedirectStandardError = true });
            if (kill is null)
            {
                return false;
            }

            await kill.WaitForExitAsync().ConfigureAwait(false);
            return kill.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
