namespace DynamoLock.Actors.Host.Commands;

/// <summary>The tool's own exit codes. <c>run</c> otherwise exits with its command's exit code.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A command-specific "no": <c>inspect</c> found no record, <c>release</c> was declined.</summary>
    public const int NotFound = 1;

    /// <summary>Bad arguments.</summary>
    public const int Usage = 2;

    /// <summary><c>run</c>: the lock was not acquired within <c>--wait</c>.</summary>
    public const int NotAcquired = 3;

    /// <summary><c>run</c>: the lock was lost while the command ran; the command was terminated.</summary>
    public const int LockLost = 4;

    /// <summary>The lock table failed (missing table, no access, unreachable endpoint).</summary>
    public const int TableError = 5;

    /// <summary>Interrupted with Ctrl-C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
