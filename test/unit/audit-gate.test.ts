// The CI's npm audit gate (scripts/audit.mjs) on the reports npm prints.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script with no type declarations
import { auditVerdict } from '../../scripts/audit-verdict.mjs';

const report = (counts: Record<string, number>) => ({ metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0, ...counts } } });

describe('the npm audit gate', () => {
  it('fails on a high or a critical finding', () => {
    expect(auditVerdict(report({ high: 1, total: 1 })).action).toBe('fail');
    expect(auditVerdict(report({ critical: 2, total: 2 })).action).toBe('fail');
    expect(auditVerdict(report({ critical: 2, total: 2 })).message).toMatch(/2 high or critical/);
  });

  it('passes with only low and moderate findings', () => {
    expect(auditVerdict(report({ low: 3, moderate: 1, total: 4 })).action).toBe('pass');
  });

  it('warns, naming the reason, when the audit service did not answer', () => {
    const verdict = auditVerdict({ error: { code: 'EAUDITNOLOCK', summary: 'audit endpoint returned an error' } });
    expect(verdict.action).toBe('warn');
    expect(verdict.message).toContain('audit endpoint returned an error');
  });
});
