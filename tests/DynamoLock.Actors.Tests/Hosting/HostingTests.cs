using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Amazon.DynamoDBv2;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace DynamoLock.Actors.Tests.Hosting;

/// <summary>Akka.Hosting registration: options, HOCON, DI and the table it builds.</summary>
public sealed class HostingTests
{
    private static async Task<IHost> StartHostAsync(Action<DynamoLockOptions> configure, Action<IServiceCollection>? services = null, string? hocon = null)
    {
        var host = new HostBuilder()
            .ConfigureServices(s =>
            {
                services?.Invoke(s);
                s.AddDynamoLockClient();
                s.AddAkka($"hosting-{Guid.NewGuid():N}", builder =>
                {
                    builder.AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend);
                    if (hocon is not null)
                    {
                        builder.AddHocon(hocon, HoconAddMode.Prepend);
                    }

                    builder.WithDynamoLock(configure);
                });
            })
            .Build();
        await host.StartAsync();
        return host;
    }

    [Fact]
    public async Task WithDynamoLock_registers_the_lock_manager_and_the_client_resolves_it()
    {
        using var host = await StartHostAsync(o =>
        {
            o.Store = LockStore.InMemory;
            o.TableName = $"hosting-{Guid.NewGuid():N}";
            o.OwnerName = "hosted-node";
        });
        var manager = await host.Services.GetRequiredService<IRequiredActor<LockManager>>().GetAsync();
        var client = host.Services.GetRequiredService<DynamoLockClient>();

        await using var handle = await client.AcquireAsync("hosted", TimeSpan.FromSeconds(5));
        var status = await manager.Ask<LockStatusReport>(new GetLockStatus("hosted"), TimeSpan.FromSeconds(5));

        Assert.Equal("/user/dynamolock", manager.Path.ToStringWithoutAddress());
        Assert.Equal(1, handle.FencingToken);
        Assert.Equal("hosted-node", status.OwnerName);
        Assert.Equal(1, status.Locks.Single().FencingToken);
        await host.StopAsync();
    }

    [Fact]
    public void Options_render_HOCON_that_the_settings_read_back()
    {
        var options = new DynamoLockOptions
        {
            OwnerName = "node \"a\"",
            LeaseDuration = TimeSpan.FromSeconds(30),
            HeartbeatInterval = TimeSpan.FromSeconds(6),
            RefreshInterval = TimeSpan.FromMilliseconds(750),
            NoticeRefreshInterval = TimeSpan.FromSeconds(9),
            SafetyMargin = TimeSpan.FromSeconds(3),
            MaxLocalHandOffs = 4,
            Store = LockStore.InMemory,
            TableName = "orders-locks",
            EnsureTable = true,
        };

        var config = ConfigurationFactory.ParseString(options.ToHocon()).WithFallback(DynamoLockConfig.Default).GetConfig("dynamolock");
        var settings = DynamoLockSettings.Create(config);

        Assert.Equal("node \"a\"", settings.OwnerName);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.LeaseDuration);
        Assert.Equal(TimeSpan.FromSeconds(6), settings.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(750), settings.RefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(9), settings.NoticeRefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.SafetyMargin);
        Assert.Equal(4, settings.MaxLocalHandOffs);
        Assert.Equal("in-memory", config.GetString("table.store"));
        Assert.Equal("orders-locks", config.GetString("table.name"));
        Assert.True(config.GetBoolean("table.ensure-table"));
    }

    [Fact]
    public void The_defaults_are_the_documented_ones()
    {
        var settings = DynamoLockSettings.Create(DynamoLockConfig.Default.GetConfig("dynamolock"));

        Assert.Equal(TimeSpan.FromSeconds(20), settings.LeaseDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.RefreshInterval);
        Assert.Equal(TimeSpan.FromSeconds(6), settings.NoticeRefreshInterval);
        Assert.Null(settings.SafetyMargin);
        Assert.Equal(TimeSpan.FromSeconds(4), settings.ResolveTiming(AcquireOptions.Default).SafetyMargin);
        Assert.StartsWith(Environment.MachineName, settings.OwnerName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HOCON_configures_the_manager_when_no_option_is_set()
    {
        using var host = await StartHostAsync(
            o => o.Store = LockStore.InMemory,
            hocon: "dynamolock { owner-name = from-hocon, lease-duration = 8s, heartbeat-interval = 2s, table.name = hocon-table }");
        var client = host.Services.GetRequiredService<DynamoLockClient>();

        var status = await client.GetStatusAsync();

        Assert.Equal("from-hocon", status.OwnerName);
        await host.StopAsync();
    }

    [Fact]
    public async Task Invalid_options_fail_the_start_with_the_setting_named()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartHostAsync(o =>
        {
            o.Store = LockStore.InMemory;
            o.LeaseDuration = TimeSpan.FromSeconds(4);
            o.HeartbeatInterval = TimeSpan.FromSeconds(3);
        }));

        Assert.Contains("HeartbeatInterval", error.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>Akka.Hosting with a DynamoDB table on the real local server.</summary>
[Trait("Category", "DynamoDB")]
public sealed class DynamoDbHostingTests(DynamoDbTableFixture fixture) : IClassFixture<DynamoDbTableFixture>
{
    [Fact]
    public async Task The_client_from_dependency_injection_is_used_and_the_table_is_created_at_start()
    {
        var tableName = DynamoDbTableFixture.UniqueTableName("hosted");
        var host = new HostBuilder()
            .ConfigureServices(s =>
            {
                s.AddSingleton<IAmazonDynamoDB>(fixture.Client);
                s.AddDynamoLockClient();
                s.AddAkka($"hosting-{Guid.NewGuid():N}", builder => builder
                    .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)
                    .WithDynamoLock(o =>
                    {
                        o.TableName = tableName;
                        o.EnsureTable = true;
                    }));
            })
            .Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<DynamoLockClient>();

        await using (var handle = await client.AcquireAsync("hosted/dynamodb", TimeSpan.FromSeconds(5)))
        {
            Assert.Equal(1, handle.FencingToken);
        }

        var stored = await fixture.Client.GetItemAsync(tableName, new() { ["key"] = new() { S = "hosted/dynamodb" } });
        Assert.Equal("1", stored.Item["isReleased"].S);
        await host.StopAsync();
        host.Dispose();
        await fixture.Client.DeleteTableAsync(tableName);
    }
}
