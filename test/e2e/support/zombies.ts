// Zombie processes in containers, counted from this machine's /proc (the
// cluster's engines share its process namespace): whatever a container's
// PID 1 fails to reap stays there as state Z under it, and each one holds a
// process id of the node until the container goes. Health checks are run
// through `docker exec`, as the engine runs them, so that ten cycles take
// seconds instead of minutes.
import { readdirSync, readFileSync } from 'node:fs';

/** `docker ...args` against one engine. */
export type DockerCli = (...args: string[]) => Promise<string>;

interface Proc {
  pid: number;
  ppid: number;
  state: string;
}

function processTable(): Proc[] {
  const table: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ') as [string, string];
      table.push({ pid: Number(entry), ppid: Number(ppid), state });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** Zombies among the descendants of each given PID (a container's PID 1 as the host sees it). */
export function zombiesUnder(pids: number[]): Map<number, number> {
  const table = processTable();
  const children = new Map<number, Proc[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const counts = new Map<number, number>();
  for (const root of pids) {
    let zombies = 0;
    const stack = [...(children.get(root) ?? [])];
    while (stack.length) {
      const p = stack.pop()!;
      if (p.state === 'Z') zombies++;
      stack.push(...(children.get(p.pid) ?? []));
    }
    counts.set(root, zombies);
  }
  return counts;
}

export interface ContainerZombies {
  name: string;
  /** Its health check, as the image or the service defines it ('' when none). */
  check: string;
  /** Health checks run before counting (by the engine since the container started, estimated, plus those run here). */
  cycles: number;
  zombies: number;
}

interface Inspected {
  Id: string;
  Name: string;
  State: { Running: boolean; Pid: number; StartedAt: string };
  Config: { Healthcheck?: { Test?: string[]; Interval?: number } };
}

/**
 * Runs the health check of every container `ids` names `rounds` times
 * (docker exec), then counts the zombies in each.
 */
export async function healthCheckAndCountZombies(docker: DockerCli, ids: string[], rounds: number): Promise<ContainerZombies[]> {
  // Only running containers: one that stopped meanwhile says PID 0, whose descendants are the whole machine.
  // (One by one: a container gone since the caller listed it fails its own inspect only.)
  const all = await Promise.all(ids.map((id) => docker('inspect', id).then((out) => (JSON.parse(out) as Inspected[])[0], () => undefined)));
  const inspected = all.filter((c): c is Inspected => !!c && c.State.Running && c.State.Pid > 0);
  ids = inspected.map((c) => c.Id);
  await Promise.all(
    inspected.map(async (c, i) => {
      const test = c.Config.Healthcheck?.Test ?? [];
      const command = test[0] === 'CMD' ? test.slice(1) : test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test[1]!] : [];
      if (!command.length) return;
      // A failing check still counts as a cycle (its orphans are what matters).
      for (let round = 0; round < rounds; round++) await docker('exec', ids[i]!, ...command).catch(() => undefined);
    }),
  );
  // Counted among the containers still running (a task replaced during the checks is left out).
  const running = await Promise.all(
    ids.map((id) => docker('inspect', '--format', '{{.State.Running}} {{.State.Pid}}', id).then((out) => (out.startsWith('true ') ? Number(out.split(' ')[1]) : 0), () => 0)),
  );
  const zombies = zombiesUnder(running.filter((pid) => pid > 0));
  return inspected.flatMap((c, i) => {
    if (!running[i]) return [];
    const test = c.Config.Healthcheck?.Test ?? [];
    const interval = (c.Config.Healthcheck?.Interval ?? 30e9) / 1e9;
    const byEngine = test.length && test[0] !== 'NONE' ? Math.floor((Date.now() - Date.parse(c.State.StartedAt)) / 1000 / interval) : 0;
    return [{
      name: c.Name.replace(/^\//, '').replace(/\.\w{25}$/, ''),
      check: test.length && test[0] !== 'NONE' ? test.slice(1).join(' ') : '',
      cycles: test.length && test[0] !== 'NONE' ? byEngine + rounds : 0,
      zombies: zombies.get(running[i]!) ?? 0,
    }];
  });
}
