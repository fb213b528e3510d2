#!/usr/bin/env bash
# The consumer test: the packed library, installed from its tarball into a fresh app directory
# outside the repository (no path mapping into src/) beside aws-cdk-lib and constructs, type-checks
# and synthesizes every README snippet and a standalone DlmSnapshotPolicy whose policyId is exported,
# in the environment-agnostic and the environment-specific form (a fixed account and region),
# through cdk-nag and cfn-guard, as a new user runs `cdk synth`: without AWS credentials and without
# a cdk.context.json. gates.js fails an app that requests a lookup (the manifest's `missing`), that
# copies AWS Backup recovery points to a DR vault it does not create, or whose plan report is not
# in its cdk.out; gold-without-dr-vault must fail synthesis naming addDrVaultStack.
#
#   build-tools/consumer-test.sh floor    # the lockfile's aws-cdk-lib (the peer floor)
#   build-tools/consumer-test.sh latest   # the newest aws-cdk-lib the registry serves now
#
# Each (program, form) is one test; the tally goes to test-reports/legs/consumer-<leg>.txt.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
leg="${1:?usage: consumer-test.sh floor|latest}"
mkdir -p "$root/test-reports/legs"
tally="$root/test-reports/legs/consumer-$leg.txt"
echo "0 1" > "$tally"   # a crash before the end counts as a failure

tarball="$(ls -t "$root"/dist/js/cdk-ebs-backup@*.tgz 2>/dev/null | head -1)"
[ -n "$tarball" ] || { echo "consumer[$leg]: no tarball in dist/js (run npx projen package:js)"; exit 1; }
locked() { node -p "require('$root/package-lock.json').packages['node_modules/$1'].version"; }
case "$leg" in
  floor) cdk="$(locked aws-cdk-lib)" ;;
  latest) cdk=latest ;;
  *) echo "unknown leg $leg"; exit 1 ;;
esac

app="$(mktemp -d "${TMPDIR:-/tmp}/cdk-ebs-backup-consumer-$leg-XXXXXX")"
trap 'rm -rf "$app"' EXIT
cd "$app"
echo '{ "name": "consumer", "private": true }' > package.json
npm install --no-audit --no-fund --loglevel=error "$tarball" "aws-cdk-lib@$cdk" "constructs@$(locked constructs)" \
  "cdk-nag@$(locked cdk-nag)" "@cdklabs/cdk-validator-cfnguard@$(locked @cdklabs/cdk-validator-cfnguard)" >install.log 2>&1 \
  || { cat install.log; echo "consumer[$leg]: npm install failed"; exit 1; }
version() { node -p "require('./node_modules/$1/package.json').version"; }
version aws-cdk-lib > "$root/test-reports/legs/consumer-$leg.version"
echo "consumer[$leg]: cdk-ebs-backup $(version cdk-ebs-backup) from $(basename "$tarball"), aws-cdk-lib $(version aws-cdk-lib), constructs $(version constructs), node $(node -v)"

# The programs: README's snippets, the DLM policy id check, and the harness (cfn-guard with the
# scoped acknowledgements the repository's tests use, importing the installed package's key).
cp "$root/build-tools/consumer/gates.js" "$root/build-tools/consumer/dlm-policy-id.ts" "$root/build-tools/consumer/gold-without-dr-vault.ts" .
sed "s#'../../src/core/acknowledge'#'cdk-ebs-backup/lib/core/acknowledge'#" "$root/test/support/scoped-guard.ts" > scoped-guard.ts
programs="$(node "$root/build-tools/consumer/extract-snippets.js" "$root/README.md" .) dlm-policy-id gold-without-dr-vault"
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "commonjs", "lib": ["es2022"], "strict": true, "skipLibCheck": true,
  "esModuleInterop": true, "types": [], "outDir": "out", "rootDir": "." }, "include": ["*.ts"] }
JSON
# scoped-guard.ts reads files (fs/path); declare the two Node modules it needs without @types/node
cat > node-shim.d.ts <<'TS'
declare module 'fs' {
  export function readFileSync(file: string, encoding: string): string;
  export function readdirSync(dir: string): string[];
  export function statSync(p: string): { isDirectory(): boolean };
}
declare module 'path' {
  export const sep: string;
  export function basename(p: string, ext?: string): string;
  export function join(...parts: string[]): string;
}
TS
if ! node "$root/node_modules/typescript/bin/tsc" -p . >tsc.log 2>&1; then
  cat tsc.log
  echo "consumer[$leg]: the README snippets do not type-check against the packed library and aws-cdk-lib $cdk"
  exit 1
fi
cp gates.js out/

passed=0
failed=0
context='{"@aws-cdk/core:validateAgainstDefaultRules":true,"@aws-cdk/core:annotationsInValidationReport":true,"@aws-cdk/core:strictCfnValidateErrors":true,"aws:cdk:enable-path-metadata":true}'
# No credentials, no profile, no context file: what `cdk synth` on a new user's machine has.
no_aws=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE
  -u AWS_REGION -u AWS_DEFAULT_REGION AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_EC2_METADATA_DISABLED=true)
rm -f cdk.context.json out/cdk.context.json
for program in $programs; do
  for form in agnostic specific; do
    if out="$(cd out && "${no_aws[@]}" CDK_CONTEXT_JSON="$context" CONSUMER_FORM="$form" CDK_OUTDIR="$app/cdk.out/$program-$form" node -r ./gates.js "$program.js" 2>&1)"; then
      passed=$((passed + 1)); echo "  ok   $program ($form)"
    else
      failed=$((failed + 1)); echo "  FAIL $program ($form)"
    fi
    echo "$out" | grep -v "^!!" | cut -c1-400 | sed 's/^/      /'
  done
done
if [ -e cdk.context.json ] || [ -e out/cdk.context.json ]; then
  failed=$((failed + 1)); echo "  FAIL a program wrote cdk.context.json (a lookup was cached)"
fi
echo "$passed $failed" > "$tally"
echo "consumer[$leg]: aws-cdk-lib $(version aws-cdk-lib): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
