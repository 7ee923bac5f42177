// Turns for the tests that measure latency under load. npm test runs two
// vitest processes side by side (the cluster project, and the unit and e2e
// projects), each with a stack of its own, on a machine of two cores. A test
// that asserts "no answer after 5 s" of its own stack would otherwise measure
// the other stack's busiest moments: the cluster's deploy (three engines
// pulling every image), a fault test's restarts. Such tests, and the
// cluster's deploy, take turns through a lock directory both processes see;
// everything else runs side by side as before.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'swarm-faas-load-turn');
const OWNER = join(LOCK, 'owner');
/** A turn held longer than this by someone else is not waited for any more (the run goes on, said in the output). */
const MAX_WAIT_MS = 12 * 60_000;

interface Owner {
  pid: number;
  who: string;
  since: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const say = (line: string): void => void process.stderr.write(`[turns] ${line}\n`);

/** Waits for the turn, takes it, and answers the function that gives it back. */
export async function takeTurn(who: string): Promise<() => Promise<void>> {
  const started = Date.now();
  let waitedFor: string | undefined;
  for (;;) {
    try {
      await mkdir(LOCK);
      const me: Owner = { pid: process.pid, who, since: Date.now() };
      await writeFile(OWNER, JSON.stringify(me));
      if (waitedFor) say(`${who} waited ${((Date.now() - started) / 1000).toFixed(1)} s for ${waitedFor}`);
      return async () => {
        const owner = await readOwner();
        if (owner?.pid === me.pid && owner.since === me.since) await rm(LOCK, { recursive: true, force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner();
    // A run killed while it held the turn: the turn is free.
    if (owner && !alive(owner.pid)) {
      await rm(LOCK, { recursive: true, force: true });
      continue;
    }
    waitedFor = owner?.who ?? waitedFor;
    if (Date.now() - started > MAX_WAIT_MS) {
      say(`${who} did not get its turn in ${MAX_WAIT_MS / 60_000} min (${waitedFor ?? 'unknown'} holds it): going on beside it`);
      return async () => undefined;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function readOwner(): Promise<Owner | undefined> {
  return readFile(OWNER, 'utf8').then((text) => JSON.parse(text) as Owner, () => undefined);
}
