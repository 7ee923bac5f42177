/**
 * Each process the watchdog starts leads its own process group (spawn with
 * detached: true), so a timeout can kill it together with everything it
 * started, not just the first process.
 */
import type { ChildProcess } from 'node:child_process';

export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is gone already; the leader may still be there alone.
    try {
      child.kill(signal);
    } catch {
      /* gone */
    }
  }
}
