using System.Buffers;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon;
using DynamoLock.Actors.Table;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// <c>dynamolock iam-policy --table T [--region R] [--account A] [--create-table]</c>: prints the least-privilege IAM
/// policy for the library on one lock table, rendered from <see cref="DynamoDbPermissions"/>, as JSON and nothing else on
/// standard output (so <c>dynamolock iam-policy &gt; policy.json</c> works). It reads no AWS configuration and calls nothing.
/// </summary>
internal static partial class IamPolicyCommand
{
    /// <summary>The IAM policy language version every policy names.</summary>
    private const string PolicyVersion = "2012-10-17";

    /// <summary>Stands for any region or any account in the ARN.</summary>
    private const string Any = "*";

    public static Command Create(CommonOptions common)
    {
        var account = new Option<string?>("--account") { Description = "The AWS account id (12 digits) the table is in [default: *, any account]." };
        var createTable = new Option<bool>("--create-table") { Description = "Also allow creating and checking the table (dynamolock create-table, ensure-table = on): " + string.Join(", ", DynamoDbPermissions.TableSetupActions) + "." };
        var command = new Command(
            "iam-policy",
            "Print the least-privilege IAM policy (JSON) for DynamoLock.Actors on the table: exactly the DynamoDB actions the library calls, " +
            "on arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE (arn:aws-cn:… and arn:aws-us-gov:… for those regions). --region and --account " +
            "default to * (any region, any account): this command reads no AWS configuration and calls nothing. " +
            "Example: dynamolock iam-policy --table locks --region eu-west-1 --account 123456789012 > policy.json")
        {
            account, createTable,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, common, "iam-policy", () =>
        {
            var table = parse.GetValue(common.Table)!;
            if (!TableName().IsMatch(table))
            {
                throw new UsageException($"--table must be 3 to 255 characters, each a letter, a digit, '_', '-' or '.', as DynamoDB requires (got '{table}').");
            }

            var region = parse.GetValue(common.Region) is { Length: > 0 } given ? given : Any;
            if (region != Any && !RegionName().IsMatch(region))
            {
                throw new UsageException($"--region must be an AWS region such as eu-west-1 or us-gov-west-1, or * for any (got '{region}').");
            }

            var accountId = parse.GetValue(account) is { Length: > 0 } id ? id : Any;
            if (accountId != Any && !AccountId().IsMatch(accountId))
            {
                throw new UsageException($"--account must be a 12-digit AWS account id, or * for any (got '{accountId}').");
            }

            Console.WriteLine(Render(TableArn(region, accountId, table), parse.GetValue(createTable)));
            return Task.FromResult(ExitCodes.Ok);
        }, ct));
        return command;
    }

    /// <summary>
    /// The table's ARN. Its partition follows the region (<c>aws-cn</c> for China, <c>aws-us-gov</c> for GovCloud, as the
    /// AWS SDK knows them), since a policy naming another partition's ARN matches nothing; any region means <c>aws</c>.
    /// </summary>
    private static string TableArn(string region, string account, string table)
    {
        var partition = region == Any ? "aws" : RegionEndpoint.GetBySystemName(region).PartitionName;
        return $"arn:{partition}:dynamodb:{region}:{account}:table/{table}";
    }

    /// <summary>The policy: one statement for what a running node calls, and one for creating the table when asked.</summary>
    private static string Render(string tableArn, bool createTable)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("Version", PolicyVersion);
            json.WriteStartArray("Statement");
            Statement(json, "DynamoLockRuntime", DynamoDbPermissions.RuntimeActions, tableArn);
            if (createTable)
            {
                Statement(json, "DynamoLockTableSetup", DynamoDbPermissions.TableSetupActions, tableArn);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Statement(Utf8JsonWriter json, string sid, IReadOnlyList<string> actions, string resource)
    {
        json.WriteStartObject();
        json.WriteString("Sid", sid);
        json.WriteString("Effect", "Allow");
        json.WriteStartArray("Action");
        foreach (var action in actions)
        {
            json.WriteStringValue(action);
        }

        json.WriteEndArray();
        json.WriteString("Resource", resource);
        json.WriteEndObject();
    }

    /// <summary>DynamoDB's rule for table names.</summary>
    [GeneratedRegex(@"\A[a-zA-Z0-9_.-]{3,255}\z")]
    private static partial Regex TableName();

    /// <summary>An AWS region's name: lower-case words and a number, such as <c>eu-west-1</c> or <c>us-gov-west-1</c>.</summary>
    [GeneratedRegex(@"\A[a-z]{2,}(-[a-z]+)+-[0-9]{1,2}\z")]
    private static partial Regex RegionName();

    /// <summary>An AWS account id: twelve digits.</summary>
    [GeneratedRegex(@"\A[0-9]{12}\z")]
    private static partial Regex AccountId();
}
