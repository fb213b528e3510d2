#!/usr/bin/env bash
# Python, as far as this machine allows (PyPI is not reachable, so no pip install): generate the
# bindings from the assembly with jsii-pacmak --code-only and byte-compile every generated file.
# A prop that collides with a generated parameter (e.g. `scope`) is a SyntaxError here.
# Tally: test-reports/legs/python.txt (one test).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/test-reports/legs"
echo "0 1" > "$root/test-reports/legs/python.txt"
out="$(mktemp -d "${TMPDIR:-/tmp}/cdk-ebs-backup-python-XXXXXX")"
trap 'rm -rf "$out"' EXIT
cd "$root"
npx jsii-pacmak --code-only --targets python --outdir "$out" >"$out.log" 2>&1 || { cat "$out.log"; rm -f "$out.log"; echo "python: jsii-pacmak failed"; exit 1; }
rm -f "$out.log"
files="$(find "$out" -name '*.py' | wc -l)"
if python3 -m compileall -q "$out" >/dev/null; then
  echo "python: $files generated files compile with $(python3 --version)"
  echo "1 0" > "$root/test-reports/legs/python.txt"
else
  python3 -m compileall -q "$out" | head -20
  echo "python: the generated bindings do not compile"
  exit 1
fi
