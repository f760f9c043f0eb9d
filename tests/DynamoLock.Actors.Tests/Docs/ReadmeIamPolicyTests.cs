using System.Text.RegularExpressions;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Docs;

/// <summary>
/// The README's "Running on AWS" shows the output of <c>dynamolock iam-policy</c> as it is, and names every action
/// <c>--create-table</c> adds, so the page and the command cannot drift apart.
/// </summary>
public sealed partial class ReadmeIamPolicyTests : IDisposable
{
    private readonly DynamoLockCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task The_readmes_policy_is_the_commands_output()
    {
        var section = RunningOnAws();
        var block = JsonBlock().Match(section);
        Assert.True(block.Success, "README.md's '## Running on AWS' has no ```json block.");

        var result = await _cli.RunAsync("iam-policy", "--table", "dynamolock", "--region", "eu-west-1", "--account", "123456789012");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(result.Output.ReplaceLineEndings("\n").TrimEnd(), block.Groups["json"].Value.TrimEnd());
    }

    [Fact]
    public void The_readme_names_every_action_create_table_adds()
    {
        var section = RunningOnAws();

        Assert.All(DynamoDbPermissions.TableSetupActions, action => Assert.Contains($"`{action}`", section, StringComparison.Ordinal));
    }

    /// <summary>The text of the README's section "## Running on AWS", up to the next section of its level.</summary>
    private static string RunningOnAws()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md")).ReplaceLineEndings("\n");
        var start = readme.IndexOf("\n## Running on AWS\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no '## Running on AWS' section.");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }

    [GeneratedRegex(@"```json\n(?<json>.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
