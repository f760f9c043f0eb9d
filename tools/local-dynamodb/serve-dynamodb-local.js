// Starts AWS's DynamoDB Local (installed by install-dynamodb-local.js) in memory, and reports its port once it answers.
//
// Usage: node serve-dynamodb-local.js [port] [--exit-with-stdin]   (port 0 or absent: a free one is picked)
//
// Prints "DynamoDB Local listening on 127.0.0.1:<port>" once a ListTables call succeeds, the same shape of line as
// serve.js, so a parent process starts either server the same way. Java's own output goes to standard error.
// DynamoDB Local has no option to choose a port itself, so a free one is found by binding port 0 and closing it;
// if another process takes it in between, Java fails to bind and another port is tried.
// The Java server is this process's child: SIGTERM, SIGINT and (with --exit-with-stdin) the end of standard input
// stop it, so whoever started this script only has to stop one process. Exits 3 when Java is missing.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const { ensureInstalled } = require('./install-dynamodb-local');

const args = process.argv.slice(2);
const exitWithStdin = args.includes('--exit-with-stdin');
const requestedPort = Number(args.find((a) => !a.startsWith('--')) || 0);
const JAVA_MISSING = 3;

let java = null;
let stopping = false;

function stop(code) {
  stopping = true;
  if (java && java.exitCode === null) {
    java.once('exit', () => process.exit(code));
    java.kill('SIGTERM');
    // Java normally stops within a second; do not outlive a parent that is waiting for us.
    setTimeout(() => { java.kill('SIGKILL'); process.exit(code); }, 5000).unref();
  } else {
    process.exit(code);
  }
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
if (exitWithStdin) {
  process.stdin.on('end', () => stop(0));
  process.stdin.on('error', () => stop(0));
  process.stdin.resume();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function javaExecutable() {
  const home = process.env.JAVA_HOME;
  const candidate = home && path.join(home, 'bin', process.platform === 'win32' ? 'java.exe' : 'java');
  return candidate && fs.existsSync(candidate) ? candidate : 'java';
}

// Any signed-looking request will do: DynamoDB Local checks that credentials are present, not that they are valid.
function listTables(port) {
  return new Promise((resolve) => {
    const request = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/',
      timeout: 2000,
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': 'DynamoDB_20120810.ListTables',
        Authorization: 'AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
    }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
    request.end('{}');
  });
}

// Starts Java on the port; resolves true once it answers, false if it exited because the port was taken.
function start(dir, port) {
  return new Promise((resolve) => {
    let output = '';
    let answered = false;
    java = spawn(javaExecutable(), ['-Djava.library.path=./DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar', '-inMemory', '-sharedDb', '-disableTelemetry', '-port', String(port)], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk) => {
      if (!answered) output += chunk;
      process.stderr.write(chunk);
    };
    java.stdout.on('data', collect);
    java.stderr.on('data', collect);
    java.on('error', (e) => {
      if (e.code === 'ENOENT') {
        console.error('java was not found: DynamoDB Local needs a Java 17 runtime; install openjdk-17-jre-headless (or set JAVA_HOME).');
        process.exit(JAVA_MISSING);
      }
      console.error(`java could not be started: ${e.message}`);
      process.exit(1);
    });
    java.on('exit', (code, signal) => {
      if (stopping) return;
      if (!answered) {
        if (/BindException|Address already in use/.test(output)) {
          resolve(false);
          return;
        }
        console.error(`DynamoDB Local exited before answering (exit code ${code}, signal ${signal}).`);
        process.exit(1);
      }
      console.error(`DynamoDB Local exited (exit code ${code}, signal ${signal}).`);
      process.exit(code === null ? 1 : code || 1);
    });

    const deadline = Date.now() + 120 * 1000;
    const poll = async () => {
      if (java.exitCode !== null || stopping) return;
      if (await listTables(port)) {
        answered = true;
        resolve(true);
      } else if (Date.now() > deadline) {
        console.error('DynamoDB Local did not answer ListTables within 120 s.');
        stop(1);
      } else {
        setTimeout(poll, 200);
      }
    };
    setTimeout(poll, 200);
  });
}

async function main() {
  const dir = await ensureInstalled();
  for (let attempt = 1; ; attempt++) {
    const port = requestedPort || (await freePort());
    if (await start(dir, port)) {
      console.log(`DynamoDB Local listening on 127.0.0.1:${port}`);
      return;
    }
    if (requestedPort || attempt >= 5) {
      console.error(`DynamoDB Local could not bind port ${port}.`);
      process.exit(1);
    }
    console.error(`port ${port} was taken before Java bound it; trying another`);
  }
}

main().catch((e) => {
  console.error(`DynamoDB Local failed: ${e.message}`);
  stop(1);
});
