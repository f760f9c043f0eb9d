#!/usr/bin/env bash
# Runs every benchmark and writes benchmarks/RESULTS.md, benchmarks/results.json and benchmarks/charts/*.png.
#   bash benchmarks/run.sh           full run (100,000 simulator seeds included), about 19 minutes on 2 cores
#   bash benchmarks/run.sh --quick   small samples, under 2 minutes; writes to benchmarks/artifacts/quick/ instead
# Other arguments go to the runner: --server dynalite|dynamodb-local (the local server the scenarios run on; dynalite by
# default), --endpoint URL (use that DynamoDB API instead of starting one), --only latency,peer,... (a subset), --output DIR.
# The round-trip counts are taken on both local servers, side by side, when both start (DynamoDB Local needs Java 17).
# What it installs is pinned: NuGet packages by Directory.Packages.props, dynalite by tools/local-dynamodb/package-lock.json,
# DynamoDB Local by tools/local-dynamodb/dynamodb-local.integrity, the peer client by benchmarks/peer/package-lock.json.
# The servers are started and stopped by the runner.
set -euo pipefail
cd "$(dirname "$0")/.."

(cd tools/local-dynamodb && [ -d node_modules/dynalite ] || npm ci --ignore-scripts --no-audit --no-fund)
(cd benchmarks/peer && [ -d node_modules/dynamodb-lock-client ] || npm ci --ignore-scripts --no-audit --no-fund)

dotnet build benchmarks/DynamoLock.Actors.Benchmarks -c Release --nologo -v quiet
exec dotnet benchmarks/DynamoLock.Actors.Benchmarks/bin/Release/net10.0/DynamoLock.Actors.Benchmarks.dll "$@"
