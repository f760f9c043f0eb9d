// Installs AWS's DynamoDB Local (a Java server) from the npm package that ships it, pinned and verified.
//
// Usage: node install-dynamodb-local.js      (prints the folder holding DynamoDBLocal.jar on its last line)
//
// DynamoDB Local is not on the npm registry by itself; amplify-dynamodb-simulator carries it as emulator/
// (DynamoDBLocal.jar, DynamoDBLocal_lib with the sqlite4java natives). We fetch that tarball with the npm client
// (`npm pack`, into .cache/, git-ignored), check it against the sha512 pinned in dynamodb-local.integrity (so a
// republished tarball is refused even if the registry vouches for it), and unpack only emulator/ into
// dynamodb-local/ (git-ignored). The package's own dependencies are never installed: the Java server needs none.
//
// Idempotent (a marker holding the pinned hash says the install is complete) and safe when several processes run
// it at once: an exclusive lock file serialises them, and the unpacked folder is moved into place in one rename.
'use strict';

const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
const TARBALL = 'amplify-dynamodb-simulator-2.9.30.tgz';
const here = __dirname;
const cacheDir = path.join(here, '.cache');
const installDir = path.join(here, 'dynamodb-local');
const marker = path.join(installDir, '.installed');
// Not .install.lock: the .NET side holds that one (an OS lock) while it runs `npm ci`, and node cannot take OS locks.
const lockFile = path.join(here, '.dynamodb-local.install.lock');
const pinned = fs.readFileSync(path.join(here, 'dynamodb-local.integrity'), 'utf8').trim();

function installed() {
  try {
    return fs.readFileSync(marker, 'utf8').trim() === pinned && fs.existsSync(path.join(installDir, 'DynamoDBLocal.jar'));
  } catch {
    return false;
  }
}

function integrityOf(file) {
  return 'sha512-' + crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64');
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// Waits for the lock; a lock left by a process that no longer runs is taken over (a killed install must not
// block every later run), and so is one older than 15 minutes (a pid reused by an unrelated process).
async function lock() {
  const deadline = Date.now() + 20 * 60 * 1000;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }

    try {
      const pid = Number(fs.readFileSync(lockFile, 'utf8'));
      const age = Date.now() - fs.statSync(lockFile).mtimeMs;
      if ((pid > 0 && !alive(pid)) || age > 15 * 60 * 1000) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
    } catch {
      // The holder removed it between our checks (or has not written its pid yet): try again.
    }

    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFile}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function unlock() {
  try {
    if (Number(fs.readFileSync(lockFile, 'utf8')) === process.pid) fs.rmSync(lockFile, { force: true });
  } catch {
    // Already gone.
  }
}

function fetchTarball() {
  const tarball = path.join(cacheDir, TARBALL);
  if (fs.existsSync(tarball) && integrityOf(tarball) === pinned) return tarball;
  fs.rmSync(tarball, { force: true });
  fs.mkdirSync(cacheDir, { recursive: true });
  console.error(`fetching ${PACKAGE} (about 57 MB) with npm pack`);
  execFileSync('npm', ['pack', PACKAGE, '--pack-destination', cacheDir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'], shell: process.platform === 'win32' });
  const actual = integrityOf(tarball);
  if (actual !== pinned) {
    fs.rmSync(tarball, { force: true });
    throw new Error(`${TARBALL} has integrity ${actual}, but dynamodb-local.integrity pins ${pinned}; refusing to install it.`);
  }
  return tarball;
}

async function main() {
  if (!installed()) {
    await lock();
    try {
      if (!installed()) {
        const tarball = fetchTarball();
        const staging = path.join(here, `.dynamodb-local.staging-${process.pid}`);
        fs.rmSync(staging, { recursive: true, force: true });
        fs.mkdirSync(staging);
        // Only package/emulator/: the Node.js wrapper around it (and its dependencies) is not wanted.
        execFileSync('tar', ['-xzf', tarball, '-C', staging, '--strip-components=2', 'package/emulator'], { stdio: 'inherit' });
        fs.writeFileSync(path.join(staging, '.installed'), pinned + '\n');
        fs.rmSync(installDir, { recursive: true, force: true });
        fs.renameSync(staging, installDir);
        console.error(`installed DynamoDB Local into ${installDir}`);
      }
    } finally {
      unlock();
    }
  }

  return installDir;
}

if (require.main === module) {
  main().then((dir) => console.log(dir)).catch((e) => {
    console.error(`DynamoDB Local install failed: ${e.message}`);
    process.exit(1);
  });
}

module.exports = { ensureInstalled: main, installDir };
