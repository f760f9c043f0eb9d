// Starts dynalite (the pinned local DynamoDB API server) in memory on 127.0.0.1.
//
// Usage: node serve.js [port] [--exit-with-stdin]   (port 0 or absent: the OS picks a free one)
//
// Prints "dynalite listening on 127.0.0.1:<port>" once it accepts connections, so a parent process can read the
// port without racing for a free one. With --exit-with-stdin it exits when its standard input closes, so a test run
// that dies without stopping it does not leave it behind (tests also stop it by its process id); without it, it
// runs until SIGTERM or SIGINT, so `node serve.js 8123 &` from a script (whose background jobs get no stdin) works.
'use strict';

const dynalite = require('dynalite');

const args = process.argv.slice(2);
const port = Number(args.find((a) => !a.startsWith('--')) || 0);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

server.listen(port, '127.0.0.1', () => {
  console.log(`dynalite listening on 127.0.0.1:${server.address().port}`);
});

server.on('error', (err) => {
  console.error(`dynalite failed: ${err.message}`);
  process.exit(1);
});

if (args.includes('--exit-with-stdin')) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
