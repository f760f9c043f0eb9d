// A cluster singleton gated on a DynamoDB lease, with Akka.Hosting.
//
//   dotnet run --project examples/SingletonWithLease -- 4053 4053     # first node, seed on itself
//   dotnet run --project examples/SingletonWithLease -- 4054 4053     # second node
//
// Each node runs until Ctrl-C. The singleton runs on the oldest node only while that node holds the lease
// "<system>-singleton-akka://<system>/user/ticker" in the DynamoDB table. Without AWS settings the lease lives
// in process memory (one process only); set AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 (for example dynalite
// from tools/local-dynamodb; no AWS credentials are needed for a local endpoint) to share it between processes.
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Event;
using Akka.Hosting;
using Akka.Remote.Hosting;
using DynamoLock.Actors.Hosting;
using Microsoft.Extensions.Hosting;

var port = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 4053;
var seedPort = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : port;
var local = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_DYNAMODB");

// snippet: lease
var lease = new DynamoDbLeaseOption
{
    TableName = "dynamolock",
    HeartbeatTimeout = TimeSpan.FromSeconds(20),   // the lock's lease (Akka's default is 120s)
    HeartbeatInterval = TimeSpan.FromSeconds(4),   // less than half of it
    Store = local is null ? LockStore.InMemory : LockStore.DynamoDb,
};
// end snippet

var host = Host.CreateDefaultBuilder(args)
    .ConfigureServices(services => services.AddAkka("example", builder => builder
        .WithRemoting("127.0.0.1", port)
        .WithClustering(new ClusterOptions { SeedNodes = [$"akka.tcp://example@127.0.0.1:{seedPort}"] })
        .WithDynamoLock(o =>
        {
            // The same table for the lock manager; ensure-table creates it when it is missing.
            o.Store = lease.Store;
            o.EnsureTable = local is not null;
        })
        // snippet: lease-hosting
        .WithDynamoDbLease(lease)   // adds the lease's HOCON; the cluster options below only read its ConfigPath
        .WithSingleton<Ticker>("ticker", Props.Create(() => new Ticker()), new ClusterSingletonOptions
        {
            LeaseImplementation = lease,
            LeaseRetryInterval = TimeSpan.FromSeconds(2),
        })
        // end snippet
        ))
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
