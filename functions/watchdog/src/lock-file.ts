/**
 * /tmp/.lock tells Docker's HEALTHCHECK (and so Swarm's routing) that this
 * task is ready; it goes away as soon as the task starts shutting down.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_LOCK_FILE = join(tmpdir(), '.lock');

export function writeLock(path: string): void {
  writeFileSync(path, `${process.pid}\n`);
}

export function removeLock(path: string): void {
  rmSync(path, { force: true });
}
