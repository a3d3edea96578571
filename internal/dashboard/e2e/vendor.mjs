// vendor.mjs copies the dashboard's third-party files, unchanged, from the
// npm packages that package-lock.json pins into ../static/vendor, which the
// Go binary embeds. With --check it changes nothing and fails if a vendored
// file differs from its package's (CI runs it after npm ci), so the vendored
// files are always exactly the published, locked versions.
//
// To update a library: change its version in package.json, npm install,
// npm run vendor, and check the dashboard (npm test).
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, '..', 'static', 'vendor');

// Vendored name → file in node_modules.
export const files = {
  'preact.mjs': 'preact/dist/preact.mjs',
  'hooks.mjs': 'preact/hooks/dist/hooks.mjs',
  'LICENSE.preact': 'preact/LICENSE',
  'htm.mjs': 'htm/dist/htm.mjs',
  'LICENSE.htm': 'htm/LICENSE',
  'uPlot.esm.js': 'uplot/dist/uPlot.esm.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
  'LICENSE.uplot': 'uplot/LICENSE',
  'cronstrue.min.js': 'cronstrue/dist/cronstrue.min.js',
  'LICENSE.cronstrue': 'cronstrue/LICENSE',
};

const check = process.argv.includes('--check');
const problems = [];
for (const [name, src] of Object.entries(files)) {
  const want = readFileSync(join(here, 'node_modules', src));
  if (!check) {
    writeFileSync(join(vendor, name), want);
    continue;
  }
  let got;
  try {
    got = readFileSync(join(vendor, name));
  } catch {
    problems.push(`${name}: missing (npm run vendor copies it from ${src})`);
    continue;
  }
  if (!got.equals(want)) problems.push(`${name}: differs from node_modules/${src}; run npm run vendor`);
}
// Every file in vendor/ must come from a package, except its README.
for (const name of readdirSync(vendor)) {
  if (!(name in files) && name !== 'README.md') problems.push(`${name}: in static/vendor but from no package in vendor.mjs`);
}
if (problems.length > 0) {
  console.error('vendored files do not match package-lock.json:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log(check ? `vendor: ${Object.keys(files).length} files match their locked packages` : `vendor: copied ${Object.keys(files).length} files`);
