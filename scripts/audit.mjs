#!/usr/bin/env node
// Fails when `npm audit --omit=dev` reports a high or critical vulnerability in
// the production dependencies. When the audit service cannot be reached (some
// networks only proxy package downloads, answering 405 to the audit API), it
// says so loudly and does not fail: that is no finding, and the dependencies
// are then checked wherever the audit service answers.
import { spawnSync } from 'node:child_process';
import { auditVerdict } from './audit-verdict.mjs';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(`npm audit printed no report (exit ${run.status}):\n${run.stderr}`);
  process.exit(1);
}
const verdict = auditVerdict(report);
if (verdict.action === 'warn') console.warn(verdict.message);
else console.log(verdict.message);
if (verdict.action === 'fail') {
  spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high'], { stdio: 'inherit' });
  process.exit(1);
}
