/**
 * Jest at the newest aws-cdk-lib: the project's Jest configuration (package.json), with every
 * `aws-cdk-lib` import, including those of cdk-nag and the cfn-guard plugin, resolved from
 * CDK_LATEST_DIR/node_modules. `constructs` stays the repository's single copy, so the construct
 * tree is one tree. Used by build-tools/latest-cdk.sh.
 */
const path = require('path');
const root = path.join(__dirname, '..');
const latest = process.env.CDK_LATEST_DIR;
if (!latest) {
  throw new Error('CDK_LATEST_DIR must name the directory where aws-cdk-lib@latest is installed');
}
const base = require(path.join(root, 'package.json')).jest;
module.exports = {
  ...base,
  rootDir: root,
  collectCoverage: false,
  reporters: ['default'],
  moduleNameMapper: {
    ...base.moduleNameMapper,
    '^aws-cdk-lib$': path.join(latest, 'node_modules', 'aws-cdk-lib'),
    '^aws-cdk-lib/(.*)$': path.join(latest, 'node_modules', 'aws-cdk-lib', '$1'),
    '^constructs$': path.join(root, 'node_modules', 'constructs'),
  },
};
