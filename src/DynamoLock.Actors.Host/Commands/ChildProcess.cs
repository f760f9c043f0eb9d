using System.Diagnostics;
using System.Globalization;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>Stops a child process politely: SIGTERM, then SIGKILL (of its whole tree) after a grace period.</summary>
internal static class ChildProcess
{
    public static async Task TerminateAsync(Process process, TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows() && await SignalAsync(process.Id, "TERM").ConfigureAwait(false))
        {
            try
            {
                await process.WaitForExitAsync().WaitAsync(grace).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException)
            {
                // It did not stop in time: kill it.
            }
        }

        try
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>Sends a signal with kill(1): .NET can only SIGKILL a process.</summary>
    private static async Task<bool> SignalAsync(int pid, string signal)
    {
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
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
}
