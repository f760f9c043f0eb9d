namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// The tool's own exit codes (listed in <c>dynamolock --help</c> and the README). <c>run</c> otherwise exits with its
/// command's exit code.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>
    /// Nothing to act on: <c>inspect</c> found no record, <c>release --force</c> found the key free (or it changed, or the
    /// operator declined); <c>soak</c>/<c>demo</c> found violations.
    /// </summary>
    public const int NotFound = 1;

    /// <summary>Bad arguments or settings (including a malformed endpoint).</summary>
    public const int Usage = 2;

    /// <summary><c>run</c>: the lock was not acquired within <c>--wait</c> (held elsewhere).</summary>
    public const int NotAcquired = 3;

    /// <summary><c>run</c>: the lock was lost while the command ran; the command was terminated.</summary>
    public const int LockLost = 4;

    /// <summary>The lock table failed (missing table, no credentials or access, unreachable endpoint).</summary>
    public const int TableError = 5;

    /// <summary>
    /// <c>run</c>: the command ended but the lock's release could not be written; the record expires one lease after its
    /// last heartbeat. The command's own exit code is in the message.
    /// </summary>
    public const int ReleaseFailed = 6;

    /// <summary>
    /// <c>selftest</c>: the endpoint broke one of the protocol's promises (a FAIL line in the report). Not a table error:
    /// the table answered, but not as the protocol needs.
    /// </summary>
    public const int PromiseBroken = 7;

    /// <summary>Interrupted with Ctrl-C (128 + SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>The exit codes as help lists them.</summary>
    public const string Help = """
        Exit codes:
          0    success (run: the command's own exit code otherwise)
          1    nothing to act on: inspect found no record; release found the key free, saw it change or was not confirmed; soak/demo/simulate found violations (simulate --mutation: the mutation was caught)
          2    bad arguments or settings (selftest: a table with other locks without --allow-shared-table)
          3    run: not acquired within --wait (held elsewhere)
          4    run: the lock was lost; the command was terminated
          5    table error: missing table, no credentials or access, wrong key schema, unreachable endpoint
          6    run: the command ended but the release failed (the lock expires one lease after its last heartbeat)
          7    selftest: a promise of the protocol did not hold on this endpoint (a FAIL line in the report)
          130  interrupted (Ctrl-C)
        """;
}
