// The function page's tasks table and the reason a function lacks tasks, from
// sample answers in the shape GET /system/function/{name} gains with #12.
import { describe, expect, it } from 'vitest';
import { instanceRows, nodeSummary, unavailableReasonOf } from '../../../ui/js/instances.js';

const now = Date.parse('2026-03-01T12:00:00Z');
const instances = [
  { id: 'a1b2c3d4e5f6a7b8c9d0', node: 'node-2', state: 'running', ready: true, since: '2026-03-01T11:58:00Z' },
  { id: 'ffeeddccbbaa99887766', node: 'node-1', state: 'running', ready: true, since: '2026-03-01T11:59:30Z' },
  { id: '0123456789abcdef0123', node: 'node-3', state: 'rejected', ready: false, since: '2026-03-01T11:59:50Z', error: 'No such image: example/missing:1' },
  { id: '99999999999999999999', node: 'node-1', state: 'starting', ready: false, since: '2026-03-01T11:59:58Z' },
];

describe('instanceRows', () => {
  it('gives one row per task with its node, state, traffic, age and error; failing first, then by node', () => {
    const rows = instanceRows(instances, now)!;
    expect(rows.map((r) => [r.id, r.node, r.state, r.traffic, r.since, r.error, r.tone])).toEqual([
      ['0123456789ab', 'node-3', 'rejected', 'no traffic', '10 s ago', 'No such image: example/missing:1', 'bad'],
      ['999999999999', 'node-1', 'starting', 'no traffic', 'just now', '', 'busy'],
      ['ffeeddccbbaa', 'node-1', 'running', 'receives traffic', '30 s ago', '', 'ok'],
      ['a1b2c3d4e5f6', 'node-2', 'running', 'receives traffic', '2 min ago', '', 'ok'],
    ]);
    expect(rows[0]?.fullId).toBe('0123456789abcdef0123');
  });

  it('says how many calls each ready task has in flight against the concurrency limit', () => {
    const limited = instances.map((i, n) => ({ ...i, ...(i.ready ? { inflight: n } : {}) }));
    expect(instanceRows(limited, now, 2)!.map((r) => r.traffic)).toEqual(['no traffic', 'no traffic', '1 of 2 in flight', '0 of 2 in flight']);
    expect(instanceRows(limited, now)!.map((r) => r.traffic)).toContain('receives traffic');
  });

  it('is null when the gateway sends no task list (before #12), and copes with sparse entries', () => {
    expect(instanceRows(undefined, now)).toBeNull();
    expect(instanceRows([{ id: 'x' }, null], now)).toEqual([expect.objectContaining({ id: 'x', node: '–', state: 'unknown', since: '', tone: 'busy' })]);
  });
});

describe('nodeSummary', () => {
  it('counts the tasks that run or start per node', () => {
    expect(nodeSummary(instanceRows(instances, now)!)).toBe('3 tasks: 2 on node-1, 1 on node-2');
    expect(nodeSummary([])).toBe('no tasks');
    expect(nodeSummary(instanceRows([instances[2]], now)!)).toBe('1 failed task');
  });
});

describe('unavailableReasonOf', () => {
  it("prefers the gateway's own reason", () => {
    expect(unavailableReasonOf({ replicas: 2, availableReplicas: 0, unavailableReason: ' image example/missing:1 cannot be pulled on any node ' })).toBe('image example/missing:1 cannot be pulled on any node');
  });

  it("falls back to the newest task error while tasks are missing, and says nothing when all are there", () => {
    expect(unavailableReasonOf({ replicas: 4, availableReplicas: 2, instances })).toBe('No such image: example/missing:1');
    expect(unavailableReasonOf({ replicas: 2, availableReplicas: 2, instances })).toBeNull();
    expect(unavailableReasonOf({ replicas: 1, availableReplicas: 0 })).toBeNull();
    expect(unavailableReasonOf(undefined)).toBeNull();
  });
});
