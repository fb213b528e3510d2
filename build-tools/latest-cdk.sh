#!/usr/bin/env bash
# The example apps and the contract tests at the newest aws-cdk-lib the registry serves now,
# installed into a second node_modules outside the repository (the lockfile keeps the floor).
# Runs on whatever `node` is on PATH (CI: the machine's own). Tally: test-reports/legs/latest-jest.json.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/test-reports/legs"
dir="$(mktemp -d "${TMPDIR:-/tmp}/cdk-ebs-backup-latest-XXXXXX")"
trap 'rm -rf "$dir"' EXIT
echo '{ "name": "cdk-latest", "private": true }' > "$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error aws-cdk-lib@latest >install.log 2>&1) \
  || { cat "$dir/install.log"; echo "latest-cdk: npm install aws-cdk-lib@latest failed"; exit 1; }
version="$(node -p "require('$dir/node_modules/aws-cdk-lib/package.json').version")"
floor="$(node -p "require('$root/node_modules/aws-cdk-lib/package.json').version")"
echo "latest-cdk: examples and contract tests at aws-cdk-lib $version (floor $floor), node $(node -v)"
cd "$root"
CDK_LATEST_DIR="$dir" npx jest -c build-tools/jest.latest.config.js --ci --maxWorkers=2 \
  --json --outputFile=test-reports/legs/latest-jest.json -t 'contract|every gate$' \
  test/examples.test.ts test/backup/contract.test.ts test/baseline/ebs-backup-baseline.test.ts \
  test/orchestration/consistent-snapshot-job.test.ts test/restore/restore-drill.test.ts test/runbooks/pre-change-snapshot.test.ts
rc=$?
echo "latest-cdk: aws-cdk-lib $version: exit $rc"
exit $rc
