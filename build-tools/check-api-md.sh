#!/usr/bin/env bash
# On CI, the API.md that the build just regenerated must match the committed copy.
set -euo pipefail
if [ -n "${CI:-}" ] && git rev-parse --git-dir >/dev/null 2>&1; then
  if ! git diff --ignore-space-at-eol --exit-code -- API.md; then
    echo "API.md is stale: run 'npx projen build' and commit API.md" >&2
    exit 1
  fi
fi
