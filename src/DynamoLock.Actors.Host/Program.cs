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

        // Ctrl-C and SIGTERM cancel the command's token; give it time to stop its child process and release its lock
        // (the child's grace period is at most a minute by default) before the process is ended regardless.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(2) }).ConfigureAwait(false);
    }
}
