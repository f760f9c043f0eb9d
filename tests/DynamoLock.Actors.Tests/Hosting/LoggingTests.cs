using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Hosting;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Table;
using DynamoLock.Actors.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace DynamoLock.Actors.Tests.Hosting;

/// <summary>The lines an operator reads reach Microsoft.Extensions.Logging through Akka's logging under Akka.Hosting, at their levels.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task Failing_heartbeats_and_a_loss_are_warnings_with_their_kind_and_reason_and_an_uncontended_grant_is_debug()
    {
        var logs = new CapturingLoggerProvider();
        var table = new ControllableLockTable(new InMemoryLockTable());
        using var host = new HostBuilder()
            .ConfigureServices(s =>
            {
                s.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
                s.AddAkka($"logging-{Guid.NewGuid():N}", builder => builder
                    .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                    .ConfigureLoggers(l =>
                    {
                        l.LogLevel = Akka.Event.LogLevel.InfoLevel;
                        l.ClearLoggers();
                        l.AddLoggerFactory();
                    })
                    .WithDynamoLock(o =>
                    {
                        o.Table = table;
                        o.LeaseDuration = TimeSpan.FromSeconds(2);
                        o.HeartbeatInterval = TimeSpan.FromMilliseconds(400);
                        o.SafetyMargin = TimeSpan.FromMilliseconds(800);
                    }));
            })
            .Build();
        await host.StartAsync();
        var client = new DynamoLockClient(host.Services.GetRequiredService<ActorSystem>(), await host.Services.GetRequiredService<IRequiredActor<LockManager>>().GetAsync());

        await using var handle = await client.AcquireAsync("ledger", TimeSpan.FromSeconds(5));
        table.FailHeartbeats = true;
        var lost = new TaskCompletionSource();
        await using var registration = handle.LostToken.Register(lost.SetResult);
        await lost.Task.WaitAsync(TimeSpan.FromSeconds(20));

        await AssertEventuallyAsync(() => logs.Lines.Any(l => l.Level == LogLevel.Warning && l.Text.Contains("'ledger' (fencing token 1) lost: LeaseExpired", StringComparison.Ordinal)));
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains("Heartbeat of lock 'ledger' failed transiently (TableUnavailable)", StringComparison.Ordinal));

        // Akka logs at Info here: the grant of an uncontended lock is a Debug line, so it is not written.
        Assert.DoesNotContain(logs.Lines, l => l.Text.Contains("acquired with fencing token", StringComparison.Ordinal));
        await host.StopAsync();
    }

    private static async Task AssertEventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The expected log line was not written within 20 s.");
            await Task.Delay(50);
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Category, string Text)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Lines.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}
