using Akka.Actor;
using Akka.Configuration;
using Akka.Event;

namespace DynamoLock.Actors.Host.Commands;

/// <summary>
/// The actor system configuration every command of the tool uses. Standard output belongs to the wrapped command
/// (<c>run</c>) or to the data asked for, so Akka never writes there: its standard-out logger is off, and its log goes
/// to standard error through <see cref="StandardErrorLogger"/>, only with <c>--verbose</c> (without it, the tool
/// reports failures itself, as one line).
/// </summary>
internal static class ToolActorSystem
{
    /// <param name="verbose">Whether Akka logs at INFO.</param>
    /// <param name="quietLevel">Akka's log level without --verbose: OFF, or ERROR where nobody else reports failures.</param>
    public static Config Config(bool verbose, string quietLevel = "OFF") => ConfigurationFactory.ParseString($$"""
        akka.loglevel = {{(verbose ? "INFO" : quietLevel)}}
        akka.stdout-loglevel = OFF
        akka.loggers = ["{{typeof(StandardErrorLogger).FullName}}, {{typeof(StandardErrorLogger).Assembly.GetName().Name}}"]
        akka.log-dead-letters = {{(verbose ? "on" : "off")}}
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """);

    public static ActorSystem Create(string name, bool verbose, string quietLevel = "OFF") => ActorSystem.Create(name, Config(verbose, quietLevel));
}

/// <summary>An Akka logger that writes each log event as a line on standard error.</summary>
/// <remarks>
/// Deliberately without Akka's logger mailbox (<c>IRequiresMessageQueue&lt;ILoggerMessageQueueSemantics&gt;</c>): at
/// shutdown that mailbox hands the events its logger has not written yet to Akka's standard-out logger, whatever
/// <c>stdout-loglevel</c> says, and a loaded machine then printed "Releasing the locks ... for shutdown" into the wrapped
/// command's output (5 of 30 runs of <c>run --verbose</c> next to two busy cores). An event still queued at exit is
/// dropped instead.
/// </remarks>
internal sealed class StandardErrorLogger : ReceiveActor
{
    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}
