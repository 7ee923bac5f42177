// The activity log: last use (for the idler) and recent invocation counts (for repeated alerts).
import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../../src/programs/gateway/scaling/activity.js';
import { FakeClock } from './scaling-fakes.js';

describe('ActivityLog', () => {
  it('counts invocations of the last seconds, per function, forgetting older ones', () => {
    const clock = new FakeClock();
    clock.time = 1_000_000; // a whole second
    const log = new ActivityLog(clock);
    expect(log.recentInvocations('a', 5)).toBe(0);
    for (let second = 0; second < 8; second++) {
      for (let i = 0; i < 3; i++) log.invoked('a');
      clock.advance(1_000);
    }
    log.invoked('b');
    // Seconds 3..7 had 3 each; the current second (8) none yet.
    expect(log.recentInvocations('a', 5)).toBe(12);
    expect(log.recentInvocations('a', 10)).toBe(24);
    expect(log.recentInvocations('b', 5)).toBe(1);
    clock.advance(3_000);
    expect(log.recentInvocations('a', 5)).toBe(3);
    clock.advance(60_000);
    expect(log.recentInvocations('a', 5)).toBe(0);
    log.invoked('a');
    expect(log.recentInvocations('a', 5)).toBe(1);
  });

  it('tells how long a function has been idle: invocations and other uses both count', () => {
    const clock = new FakeClock();
    const log = new ActivityLog(clock);
    expect(log.idleFor('a')).toBeUndefined();
    log.invoked('a');
    clock.advance(4_000);
    expect(log.idleFor('a')).toBe(4_000);
    log.touch('a');
    expect(log.idleFor('a')).toBe(0);
    log.forget('a');
    expect(log.idleFor('a')).toBeUndefined();
    expect(log.recentInvocations('a', 5)).toBe(0);
  });
});
