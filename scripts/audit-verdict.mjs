// What one `npm audit --json` report means for the CI gate (kept apart from
// running npm so that test/unit/audit-gate.test.ts can feed it reports).
//   { action: 'pass' | 'fail' | 'warn', message }
export function auditVerdict(report) {
  const counts = report?.metadata?.vulnerabilities;
  if (counts) {
    const serious = (counts.high ?? 0) + (counts.critical ?? 0);
    const summary = `npm audit (production dependencies): ${JSON.stringify(counts)}`;
    return serious > 0
      ? { action: 'fail', message: `${summary}: ${serious} high or critical` }
      : { action: 'pass', message: summary };
  }
  const reason = report?.message ?? report?.error?.summary ?? JSON.stringify(report ?? null).slice(0, 300);
  return { action: 'warn', message: `WARNING: the npm audit service did not answer here (${reason}); no audit result for this run.` };
}
