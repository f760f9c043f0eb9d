// Starts dynalite (the pinned local DynamoDB API server) in memory on 127.0.0.1.
//
// Usage: node serve.js [port]   (port 0 or absent: the OS picks a free one)
//
// Prints "dynalite listening on 127.0.0.1:<port>" once it accepts connections, so a parent process can read the
// port without racing for a free one. Exits when its standard input closes, so a test run that dies without
// stopping it does not leave it behind; tests also stop it by its process id.
'use strict';

const dynalite = require('dynalite');

const port = Number(process.argv[2] || 0);
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

server.listen(port, '127.0.0.1', () => {
  console.log(`dynalite listening on 127.0.0.1:${server.address().port}`);
});

server.on('error', (err) => {
  console.error(`dynalite failed: ${err.message}`);
  process.exit(1);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
