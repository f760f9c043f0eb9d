using System.CommandLine;
using DynamoLock.Actors.Host.Demo;

namespace DynamoLock.Actors.Host;

/// <summary>The <c>dynamolock</c> command-line host.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the command.</summary>
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("dynamolock: distributed locks for Akka.NET on Amazon DynamoDB.")
        {
            DemoCommand.Create(),
        };
        return root.Parse(args).InvokeAsync();
    }
}
