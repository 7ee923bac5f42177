/** Test helpers: an in-process watchdog on a random port, and a look at the process table. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createWatchdog, type Watchdog } from '../src/server.js';

export interface Running {
  url: string;
  watchdog: Watchdog;
  logs: string[];
  lockFile: string;
  /** Shuts the watchdog down (as on SIGTERM). */
  stop(): Promise<void>;
  /** Shuts down if needed and removes the test's temporary directory. */
  dispose(): Promise<void>;
}

let spawnerBinary: string | undefined;

/**
 * The native spawner, compiled once per test worker from native/spawner.c
 * with the host's cc (build.mjs, as the image build does). No compiler is a
 * failure, not a skip: the spawner is what classic mode runs on.
 */
export async function spawnerPath(): Promise<string> {
  if (spawnerBinary) return spawnerBinary;
  const { buildSpawner } = (await import(fileURLToPath(new URL('../build.mjs', import.meta.url)))) as {
    buildSpawner: (arch: undefined, outfile: string) => string | undefined;
  };
  const out = join(mkdtempSync(join(tmpdir(), 'wd-spawner-')), 'spawner');
  const built = buildSpawner(undefined, out);
  if (!built) throw new Error('no C compiler (cc) to build the spawner: install gcc');
  spawnerBinary = built;
  return built;
}

/** Classic mode's two process starters: the native spawner (default) and Node's child_process. */
export const STARTERS = ['native', 'node'] as const;
export type StarterName = (typeof STARTERS)[number];

export async function startWatchdog(
  env: Record<string, string>,
  extra: { memoryBufferBytes?: number; spillDir?: string; starter?: StarterName } = {},
): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'wd-test-'));
  const lockFile = join(dir, '.lock');
  const logs: string[] = [];
  const { starter = 'native', ...options } = extra;
  const spawner = env.spawner ?? (starter === 'node' ? 'node' : await spawnerPath());
  const watchdog = createWatchdog(loadConfig({ ...env, spawner }), { lockFile, spillDir: dir, log: (l) => logs.push(l), ...options });
  const address = await watchdog.listen(0, '127.0.0.1');
  const stop = () => watchdog.shutdown();
  const dispose = async () => {
    await watchdog.shutdown();
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `http://127.0.0.1:${address.port}`, watchdog, logs, lockFile, stop, dispose };
}

interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string;
}

/** Every process visible in /proc (Linux). */
export function processTable(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ..." - comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      out.push({ pid: Number(name), state: rest[0]!, ppid: Number(rest[1]), cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Children and grandchildren: classic mode's processes are the spawner's children. */
export const descendantsOfThisProcess = () => {
  const table = processTable();
  const children = new Set(table.filter((p) => p.ppid === process.pid).map((p) => p.pid));
  return table.filter((p) => p.ppid === process.pid || children.has(p.ppid));
};
export const zombiesOfThisProcess = () => descendantsOfThisProcess().filter((p) => p.state === 'Z');
export const processesWith = (marker: string) => processTable().filter((p) => p.cmdline.includes(marker));

export async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}
