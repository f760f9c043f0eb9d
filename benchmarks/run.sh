#!/usr/bin/env bash
# Runs every benchmark and writes benchmarks/RESULTS.md, benchmarks/results.json and benchmarks/charts/*.png.
#   bash benchmarks/run.sh           full run, under 10 minutes on 2 cores
#   bash benchmarks/run.sh --quick   small samples, under 2 minutes; writes to benchmarks/artifacts/quick/ instead
# Other arguments go to the runner: --endpoint URL (use that DynamoDB API instead of starting dynalite),
# --only latency,peer,... (a subset), --output DIR.
# What it installs is pinned: NuGet packages by Directory.Packages.props, dynalite by tools/local-dynamodb/package-lock.json,
# the peer client by benchmarks/peer/package-lock.json. dynalite is started and stopped by the runner.
set -euo pipefail
cd "$(dirname "$0")/.."

(cd tools/local-dynamodb && [ -d node_modules/dynalite ] || npm ci --ignore-scripts --no-audit --no-fund)
(cd benchmarks/peer && [ -d node_modules/dynamodb-lock-client ] || npm ci --ignore-scripts --no-audit --no-fund)

dotnet build benchmarks/DynamoLock.Actors.Benchmarks -c Release --nologo -v quiet
exec dotnet benchmarks/DynamoLock.Actors.Benchmarks/bin/Release/net10.0/DynamoLock.Actors.Benchmarks.dll "$@"
