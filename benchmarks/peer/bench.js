"use strict";

// The peer side of the DynamoLock.Actors benchmarks. It runs, one after another against the same DynamoDB API server:
//   raw        - two conditional UpdateItem calls per iteration from aws-sdk v2 (this language's and SDK's limit),
//   fail-open  - dynamodb-lock-client's FailOpen lock (a lease with heartbeats, the peer of DynamoLock.Actors),
//   fail-closed - dynamodb-lock-client's FailClosed lock (no lease: a crashed holder keeps the lock for ever).
// Each does `warmup` untimed iterations, then `iterations` timed acquire+release pairs on one key, and counts the
// HTTP requests of one acquire and one release (SDK retries included) by DynamoDB operation.
// Usage: node bench.js <endpoint> <iterations> <warmup>; prints one JSON document on standard output.

// The SDK prints an end-of-support notice on load; it is not part of what is measured.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";

const http = require("http");
const AWS = require("aws-sdk");
const DynamoDBLockClient = require("dynamodb-lock-client");

const [endpoint, iterationsText, warmupText] = process.argv.slice(2);
if (!endpoint || !/^https?:\/\//.test(endpoint))
{
    console.error("usage: node bench.js <endpoint URL> <iterations> <warmup>");
    process.exit(2);
}
const iterations = parseInt(iterationsText || "200", 10);
const warmup = parseInt(warmupText || "50", 10);

// Keep-alive, as the .NET SDK does by default: without it every request would pay a TCP handshake.
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const config =
{
    endpoint,
    region: "us-east-1",
    credentials: new AWS.Credentials("local", "local"),
    httpOptions: { agent },
    maxRetries: 3,
};
const dynamodb = new AWS.DynamoDB(config);
const documents = new AWS.DynamoDB.DocumentClient({ service: dynamodb });

// Every attempt the SDK sends, retries included, by operation.
let requests = {};
AWS.events.on("send", response =>
{
    const operation = response.request.operation;
    requests[operation] = (requests[operation] || 0) + 1;
});
const takeCounts = () => { const counts = requests; requests = {}; return counts; };

const table = `peer-bench-${process.pid}-${Date.now()}`;

function callback(fn)
{
    return new Promise((resolve, reject) => fn((error, value) => error ? reject(error) : resolve(value)));
}

async function createTable()
{
    await dynamodb.createTable(
        {
            TableName: table,
            AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
            KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
            BillingMode: "PAY_PER_REQUEST",
        }).promise();
    await dynamodb.waitFor("tableExists", { TableName: table, $waiter: { delay: 1, maxAttempts: 60 } }).promise();
}

async function measure(name, acquireAndRelease)
{
    for (let i = 0; i < warmup; i++)
    {
        await acquireAndRelease(`${name}-warmup`, null);
    }
    const latenciesMs = [];
    const perOperation = {};
    for (let i = 0; i < iterations; i++)
    {
        const phases = i === 0 ? perOperation : null;
        const started = process.hrtime.bigint();
        await acquireAndRelease(name, phases);
        latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return { name, latenciesMs, requests: perOperation };
}

// The two writes a lock needs at the least: a conditional take, then a conditional give-back.
async function raw(key, phases)
{
    const owner = `raw-${process.pid}`;
    takeCounts();
    await documents.update(
        {
            TableName: table,
            Key: { id: key },
            UpdateExpression: "SET #owner = :owner, leaseDurationMs = :lease, fencingToken = if_not_exists(fencingToken, :zero) + :one",
            ConditionExpression: "attribute_not_exists(id) OR attribute_not_exists(#owner)",
            ExpressionAttributeNames: { "#owner": "owner" },
            ExpressionAttributeValues: { ":owner": owner, ":lease": 20000, ":zero": 0, ":one": 1 },
        }).promise();
    const acquire = takeCounts();
    await documents.update(
        {
            TableName: table,
            Key: { id: key },
            UpdateExpression: "REMOVE #owner",
            ConditionExpression: "#owner = :owner",
            ExpressionAttributeNames: { "#owner": "owner" },
            ExpressionAttributeValues: { ":owner": owner },
        }).promise();
    if (phases)
    {
        phases.acquire = acquire;
        phases.release = takeCounts();
    }
}

function client(kind)
{
    const options = { dynamodb: documents, lockTable: table, partitionKey: "id", owner: `peer-${process.pid}` };
    return kind === "fail-open"
        ? new DynamoDBLockClient.FailOpen({ ...options, leaseDurationMs: 20000, heartbeatPeriodMs: 5000 })
        : new DynamoDBLockClient.FailClosed({ ...options, acquirePeriodMs: 1000 });
}

function peer(kind)
{
    const lockClient = client(kind);
    return async (key, phases) =>
    {
        takeCounts();
        const lock = await callback(done => lockClient.acquireLock(key, done));
        const acquire = takeCounts();
        await callback(done => lock.release(done));
        if (phases)
        {
            phases.acquire = acquire;
            phases.release = takeCounts();
        }
    };
}

async function main()
{
    await createTable();
    const runs = [];
    runs.push(await measure("raw", raw));
    runs.push(await measure("fail-open", peer("fail-open")));
    runs.push(await measure("fail-closed", peer("fail-closed")));
    await dynamodb.deleteTable({ TableName: table }).promise();
    const versions =
    {
        node: process.version,
        awsSdk: require("aws-sdk/package.json").version,
        dynamodbLockClient: require("dynamodb-lock-client/package.json").version,
    };
    process.stdout.write(JSON.stringify({ versions, iterations, warmup, runs }) + "\n");
    agent.destroy();
}

main().catch(error =>
{
    console.error(error && error.stack || String(error));
    process.exit(1);
});
