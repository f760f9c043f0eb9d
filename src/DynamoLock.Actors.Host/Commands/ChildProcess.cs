using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>Stops a child process politely: SIGTERM, then SIGKILL (of its whole tree) after a grace period.</summary>
internal static partial class ChildProcess
{
    private const int SigTerm = 15;

    public static async Task TerminateAsync(Process process, TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        if (!OperatingSystem.IsWindows())
        {
            _ = Kill(process.Id, SigTerm);
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

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
