namespace DynamoLock.Actors.Host.SelfTest;

/// <summary>One line of the self-test's report: a promise of the protocol, whether it held, and the figures that show it.</summary>
/// <param name="Name">The promise, short and stable (the tests and docs/selftest.md refer to it).</param>
/// <param name="Verdict">Whether it held.</param>
/// <param name="Figures">What was measured, in words and numbers.</param>
internal sealed record SelfTestCheck(string Name, SelfTestVerdict Verdict, string Figures)
{
    public static SelfTestCheck Pass(string name, string figures) => new(name, SelfTestVerdict.Pass, figures);

    public static SelfTestCheck Fail(string name, string figures) => new(name, SelfTestVerdict.Fail, figures);

    public static SelfTestCheck Note(string name, string figures) => new(name, SelfTestVerdict.Note, figures);

    /// <summary>The verdict as the report prints it.</summary>
    public string VerdictText => Verdict switch
    {
        SelfTestVerdict.Pass => "PASS",
        SelfTestVerdict.Fail => "FAIL",
        _ => "NOTE",
    };
}
