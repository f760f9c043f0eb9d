// The README's code, compiled and run by CI: Akka.Hosting set-up, the actor API, the async API, a lock manager without
// Akka.Hosting, and the lock table on its own.
//
//   dotnet run --project examples/QuickStart                                            # the in-memory table
//   AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 dotnet run --project examples/QuickStart   # a local DynamoDB
//
// Exits 0 when every step did what its comment says, 1 otherwise.
// snippet: hosting
using Akka.Actor;
using Akka.Hosting;
using DynamoLock.Actors;
using DynamoLock.Actors.Hosting;
using DynamoLock.Actors.Table;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

var local = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_DYNAMODB");   // e.g. http://127.0.0.1:8000

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddAkka("orders", akka => akka
    .WithDynamoLock(o =>
    {
        o.TableName = "dynamolock";
        o.Store = local is null ? LockStore.InMemory : LockStore.DynamoDb;   // in memory: one process only, for tests
        o.EnsureTable = local is not null;                                  // create the table if it is missing
        // o.ServiceUrl = "http://127.0.0.1:8000";                          // a local endpoint in code instead
        // o.UseSessions = true;                                            // one heartbeat per node for all its locks
    })
    .WithActors((system, registry) => registry.Register<NightlyJob>(system.ActorOf(Props.Create<NightlyJob>(), "nightly"))));
builder.Services.AddDynamoLockClient();                                     // the async facade below
// end snippet

// snippet: observability
builder.Services.AddHealthChecks().AddDynamoLock(tags: ["ready"]);        // the lock manager registered with WithDynamoLock
builder.Services.AddOpenTelemetry()                                       // OpenTelemetry.Extensions.Hosting
    .WithTracing(t => t.AddSource(DynamoLockDiagnostics.ActivitySourceName))   // "DynamoLock.Actors"; add .AddAWSInstrumentation() for the SDK's spans
    .WithMetrics(m => m.AddMeter(DynamoLockDiagnostics.MeterName));            // "DynamoLock.Actors"
// end snippet

using var host = builder.Build();
await host.StartAsync();

using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1));
var ct = cancel.Token;
var failures = new List<string>();

// snippet: ask-the-actor
// NightlyJob (NightlyJob.cs) takes the lock, works, releases it and tells whoever said "run".
var nightly = host.Services.GetRequiredService<IRequiredActor<NightlyJob>>().ActorRef;
var outcome = await nightly.Ask<object>(NightlyJob.Run.Instance, TimeSpan.FromSeconds(30), ct);
Console.WriteLine($"actor API: {outcome}");                                  // LockReleased { Key = orders/nightly, ... }
// end snippet
Check(outcome is LockReleased { Key: "orders/nightly" }, "the actor took and released orders/nightly");

// snippet: async
var client = host.Services.GetRequiredService<DynamoLockClient>();
await using (var handle = await client.AcquireAsync("orders/report", TimeSpan.FromSeconds(30), cancellationToken: ct))
{
    await WriteReportAsync(handle.FencingToken, handle.LostToken);          // LostToken fires if the lock is lost
}                                                                            // disposing the handle releases the lock

// Once released, the lock can be taken again: TryAcquireAsync returns null only when someone else holds it.
await using var again = await client.TryAcquireAsync("orders/report", cancellationToken: ct);
Console.WriteLine(again is null ? "held elsewhere" : $"async API: taken again with fencing token {again.FencingToken}");
// end snippet
Check(again is { FencingToken: > 1 }, "the async API took orders/report twice, the second time with a greater token");

var health = await host.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"), ct);
Console.WriteLine($"health: {health.Status} ({health.Entries["dynamolock"].Description})");
Check(health.Status == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy && (int)health.Entries["dynamolock"].Data["held_locks"] == 1, "the health check is healthy and counts the held lock");

// snippet: without-hosting
// Without Akka.Hosting: any actor system, any ILockTable.
var system = ActorSystem.Create("plain");
var table = new InMemoryLockTable();   // or new DynamoDbLockTable(new AmazonDynamoDBClient(), new DynamoDbLockTableOptions { TableName = "dynamolock" })
var manager = system.ActorOf(LockManager.Props(table, new DynamoLockSettings { OwnerName = "plain-node" }), "locks");
var plain = new DynamoLockClient(system, manager);
await using (var held = await plain.AcquireAsync("plain/key", TimeSpan.FromSeconds(5), cancellationToken: ct))
{
    Console.WriteLine($"without hosting: fencing token {held.FencingToken}");
}
// end snippet
Check((await table.ReadAsync(new LockKey("plain/key"), ct))?.IsReleased == true, "the plain lock manager released plain/key");
await system.Terminate();

// snippet: table
// The lock table on its own: one conditional write to take a free lock, one to release it.
var locks = new InMemoryLockTable();   // or new DynamoDbLockTable(new AmazonDynamoDBClient(), new DynamoDbLockTableOptions { TableName = "dynamolock" })
var result = await locks.TryAcquireAsync(new AcquireLockRequest(new LockKey("orders/table"), "worker-1", TimeSpan.FromSeconds(20)), ct);
if (result is AcquireResult.Granted { Record: var record })
{
    await locks.ReleaseAsync(new ReleaseLockRequest(record.Key, "worker-1", record.RecordVersionNumber), ct);
}
// end snippet
Check(result is AcquireResult.Granted { Record.FencingToken: 1 }, "the table granted orders/table with fencing token 1");

await host.StopAsync(CancellationToken.None);
Console.WriteLine(failures.Count == 0 ? "quickstart: every step did what it says" : $"quickstart: {failures.Count} step(s) failed: {string.Join("; ", failures)}");
return failures.Count == 0 ? 0 : 1;

void Check(bool passed, string what)
{
    if (!passed)
    {
        failures.Add(what);
    }
}

static async Task WriteReportAsync(long fencingToken, CancellationToken lost)
{
    // Pass the fencing token to whatever the lock protects, so that it can refuse a stale holder.
    await Task.Delay(TimeSpan.FromMilliseconds(10), lost);
    Console.WriteLine($"async API: report written under fencing token {fencingToken}");
}
