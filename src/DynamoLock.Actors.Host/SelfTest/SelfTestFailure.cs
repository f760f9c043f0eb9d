namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>
/// A promise broke in a way that leaves the following checks nothing sound to stand on (a write that should have been
/// refused was applied, a free key was refused): the run reports <see cref="Check"/> and stops checking.
/// </summary>
internal sealed class SelfTestFailure(SelfTestCheck check) : Exception(check.Figures)
{
    /// <summary>The FAIL line to report.</summary>
    public SelfTestCheck Check { get; } = check;
}
