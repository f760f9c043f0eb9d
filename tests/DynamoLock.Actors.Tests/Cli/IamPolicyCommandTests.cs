using System.Text.Json;
using DynamoLock.Actors.Tests.Infrastructure;
using Xunit;

namespace DynamoLock.Actors.Tests.Cli;

/// <summary>
/// <c>dynamolock iam-policy</c> as an operator runs it: JSON alone on standard output, for the table's ARN, and a usage
/// error naming the option for a bad table name, region or account. That the actions are exactly what the adapter sends
/// is <c>Table/DynamoDbPermissionsTests</c>.
/// </summary>
public sealed class IamPolicyCommandTests : IDisposable
{
    private readonly DynamoLockCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task The_policy_is_json_alone_on_stdout_for_the_tables_arn()
    {
        var result = await _cli.RunAsync("iam-policy", "--table", "orders.locks", "--region", "eu-west-1", "--account", "123456789012");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(string.Empty, result.Error);
        using var policy = JsonDocument.Parse(result.Output);
        Assert.Equal("2012-10-17", policy.RootElement.GetProperty("Version").GetString());
        var statement = Assert.Single(policy.RootElement.GetProperty("Statement").EnumerateArray());
        Assert.False(string.IsNullOrEmpty(statement.GetProperty("Sid").GetString()));
        Assert.Equal("Allow", statement.GetProperty("Effect").GetString());
        Assert.Equal("arn:aws:dynamodb:eu-west-1:123456789012:table/orders.locks", statement.GetProperty("Resource").GetString());
        var actions = statement.GetProperty("Action").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains("dynamodb:UpdateItem", actions);
        Assert.DoesNotContain("dynamodb:CreateTable", actions);
    }

    [Fact]
    public async Task Create_table_adds_a_second_statement_on_the_same_arn()
    {
        var result = await _cli.RunAsync("iam-policy", "--table", "locks", "--create-table");

        Assert.True(result.ExitCode == 0, result.Error);
        using var policy = JsonDocument.Parse(result.Output);
        var statements = policy.RootElement.GetProperty("Statement").EnumerateArray().ToList();
        Assert.Equal(2, statements.Count);
        Assert.NotEqual(statements[0].GetProperty("Sid").GetString(), statements[1].GetProperty("Sid").GetString());

        // Neither region nor account given: any (the tool sets AWS_REGION for every run, and this command ignores it).
        Assert.All(statements, s => Assert.Equal("arn:aws:dynamodb:*:*:table/locks", s.GetProperty("Resource").GetString()));
        var setup = statements[1].GetProperty("Action").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains("dynamodb:CreateTable", setup);
        Assert.Contains("dynamodb:UpdateTimeToLive", setup);
    }

    [Fact]
    public async Task A_china_or_govcloud_region_names_its_partition_in_the_arn()
    {
        var china = await _cli.RunAsync("iam-policy", "--table", "locks", "--region", "cn-north-1");
        var govCloud = await _cli.RunAsync("iam-policy", "--table", "locks", "--region", "us-gov-west-1");

        Assert.Contains("\"arn:aws-cn:dynamodb:cn-north-1:*:table/locks\"", china.Output, StringComparison.Ordinal);
        Assert.Contains("\"arn:aws-us-gov:dynamodb:us-gov-west-1:*:table/locks\"", govCloud.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--table ab", "--table")]
    [InlineData("--table orders/locks", "--table")]
    [InlineData("--table locks --region EU-WEST-1", "--region")]
    [InlineData("--table locks --region eu-west", "--region")]
    [InlineData("--table locks --account 12345", "--account")]
    [InlineData("--table locks --account arn:aws:iam::123456789012:root", "--account")]
    public async Task A_bad_table_region_or_account_exits_2_naming_the_option(string args, string named)
    {
        var result = await _cli.RunAsync(["iam-policy", .. args.Split(' ')]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Output);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_table_name_longer_than_255_characters_exits_2()
    {
        var result = await _cli.RunAsync("iam-policy", "--table", new string('t', 256));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--table", result.Error, StringComparison.Ordinal);
    }
}
