using System.CommandLine;
using DynamoLock.Actors.Host.Commands;
using DynamoLock.Actors.Host.Demo;

namespace DynamoLock.Actors.Host;

/// <summary>The <c>dynamolock</c> command-line host.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the command; bad arguments exit with 2.</summary>
    public static async Task<int> Main(string[] args)
    {
        var common = new CommonOptions();
        var root = new RootCommand("dynamolock: distributed locks for Akka.NET on Amazon DynamoDB.")
        {
            DemoCommand.Create(common),
            RunCommand.Create(common),
            ListCommand.Create(common),
            InspectCommand.Create(common),
            WatchCommand.Create(common),
            CreateTableCommand.Create(common),
            ReleaseCommand.Create(common),
            SoakCommand.Create(common),
            ChaosWorkerCommand.Create(common),
            LocalDynamoDbCommand.Create(common),
        };
        common.AddTo(root);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"dynamolock: {error.Message}").ConfigureAwait(false);
            }

            await Console.Error.WriteLineAsync("Run 'dynamolock --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        // Ctrl-C and SIGTERM cancel the command's token; give it time to stop its child process (within --grace, which is
        // shorter than a fifth of the lease, at most 7 days / 5) and release its lock before the process is ended regardless.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromDays(2) }).ConfigureAwait(false);
    }
}
