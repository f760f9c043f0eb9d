// A cluster singleton gated on a DynamoDB lease, with Akka.Hosting.
//
//   dotnet run --project examples/SingletonWithLease -- 4053 4053     # first node, seed on itself
//   dotnet run --project examples/SingletonWithLease -- 4054 4053     # second node
//
// Each node runs until Ctrl-C. The singleton runs on the oldest node only while that node holds the lease
// "<system>-singleton-akka://<system>/user/ticker" in the DynamoDB table. Without AWS settings the lease lives
// in process memory (one process only); set DYNAMOLOCK_ENDPOINT=http://127.0.0.1:8000 (for example dynalite
// from tools/local-dynamodb) to share it between processes.
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Hosting;
using DynamoLock.Actors.Hosting;
using Microsoft.Extensions.Hosting;

var port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 4053;
var seedPort = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : port;
var endpoint = Environment.GetEnvironmentVariable("DYNAMOLOCK_ENDPOINT");

var lease = new DynamoDbLeaseOption
{
    HeartbeatTimeout = TimeSpan.FromSeconds(20),
    HeartbeatInterval = TimeSpan.FromSeconds(4),
    TableName = "dynamolock",
    Store = endpoint is null ? LockStore.InMemory : LockStore.DynamoDb,
    ServiceUrl = endpoint,
};

var host = Host.CreateDefaultBuilder(args)
    .ConfigureServices(services => services.AddAkka("example", builder => builder
        .WithRemoting("127.0.0.1", port)
        .WithClustering(new ClusterOptions { SeedNodes = [$"akka.tcp://example@127.0.0.1:{seedPort}"] })
        .WithDynamoLock(o =>
        {
            // The same table for the lock manager; ensure-table creates it when it is missing.
            o.Store = lease.Store;
            o.ServiceUrl = endpoint;
            o.EnsureTable = endpoint is not null;
        })
        .WithDynamoDbLease(lease)
        .WithSingleton<Ticker>("ticker", Props.Create(() => new Ticker()), new ClusterSingletonOptions
        {
            LeaseImplementation = lease,
            LeaseRetryInterval = TimeSpan.FromSeconds(2),
        })))
    .Build();

await host.RunAsync();

/// <summary>The singleton: logs a tick every second while it runs.</summary>
internal sealed class Ticker : ReceiveActor, IWithTimers
{
    public Ticker()
    {
        var log = Context.GetLogger();
        Receive<string>(_ => log.Info("tick from the singleton on {0}", Akka.Cluster.Cluster.Get(Context.System).SelfAddress));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", "tick", TimeSpan.FromSeconds(1));
}
