namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>What one line of the self-test's report says about its promise.</summary>
internal enum SelfTestVerdict
{
    /// <summary>The promise held on this endpoint.</summary>
    Pass,

    /// <summary>The promise did not hold: the run exits with <see cref="Commands.ExitCodes.PromiseBroken"/>.</summary>
    Fail,

    /// <summary>Figures for information (latency, the clock facts): nothing to hold or break.</summary>
    Note,
}
