/**
 * Classic mode's fastest process starter: the spawn addon (native/spawn-addon.c)
 * loaded into the watchdog, which starts each process with posix_spawn
 * (clone(CLONE_VM|CLONE_VFORK): no copy of Node's address space) on the
 * watchdog's own thread, and whose pipes the watchdog reads itself. Nothing
 * sits between the watchdog and the process, so a request costs the same
 * hand-offs as in the Go watchdog (the spawner, a helper process, adds two).
 * Exit statuses are collected on SIGCHLD with waitpid for our own children
 * only (libuv reaps its own, e.g. HTTP mode's upstream, separately).
 */
import { Writable } from 'node:stream';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { EnvOverlay, Outcome, ProcessRun, ProcessStarter } from './process-run.js';
import { collectStream, STDERR_LIMIT } from './process-run.js';
import { collectCapped } from './spill-buffer.js';
import { encodeHeader, findInPath } from './spawner-client.js';

interface SpawnAddon {
  /** [pid, stdin, stdout, stderr] or [-errno]. */
  spawn(header: Buffer): number[];
  /** -1 running, -2 not our child, else exit code or 256 + signal. */
  reap(pid: number): number;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** Loads the addon; throws when it cannot be loaded here (wrong architecture, no Node-API...). */
export function loadAddonStarter(path: string): ProcessStarter {
  const module = { exports: {} as SpawnAddon };
  process.dlopen(module, path);
  const addon = module.exports;
  if (typeof addon.spawn !== 'function' || typeof addon.reap !== 'function') throw new Error(`${path} is not the watchdog's spawn addon`);

  const running = new Map<number, (status: number) => void>();
  const reapAll = () => {
    for (const [pid, exited] of running) {
      const status = addon.reap(pid);
      if (status === -1) continue;
      running.delete(pid);
      exited(status);
    }
  };
  process.on('SIGCHLD', reapAll);
  const programs = new Map<string, string>();

  return {
    kind: 'addon',
    prepare(file) {
      const found = findInPath(file, process.env.PATH);
      if (found) programs.set(file, found);
    },
    run(file, args, base, overlay: EnvOverlay): ProcessRun {
      const header = encodeHeader(programs.get(file) ?? file, [file, ...args], base, overlay).subarray(4);
      const result = addon.spawn(header);
      if (result.length === 1) {
        const errno = -result[0]!;
        const code = errnoNames.get(errno) ?? `errno ${errno}`;
        const error = Object.assign(new Error(`spawn ${file} ${code}`), { code });
        const stdin = new Writable({ write: (_c, _e, done) => done() });
        return { stdin, collect: async () => undefined, outcome: Promise.resolve({ error }), kill: () => undefined };
      }
      const [pid, inFd, outFd, errFd] = result as [number, number, number, number];
      const stdin = new Socket({ fd: inFd, readable: false, writable: true });
      const stdout = new Socket({ fd: outFd, readable: true, writable: false });
      const stderrStream = new Socket({ fd: errFd, readable: true, writable: false });
      const stderr = collectCapped(stderrStream, STDERR_LIMIT);
      let reaped = false;
      const exited = new Promise<number>((resolve) => running.set(pid, (status) => ((reaped = true), resolve(status))));
      const closed = (stream: Socket) => new Promise<void>((resolve) => stream.once('close', () => resolve()));
      const outcome = Promise.all([exited, closed(stdout), closed(stderrStream)]).then(([status]): Outcome => {
        if (status === -2) return { error: new Error(`lost track of process ${pid}`) };
        return status >= 256 ? { code: null, signal: signalNames.get(status - 256) ?? null, stderr: stderr() } : { code: status, signal: null, stderr: stderr() };
      });
      // Its output closed: it has most likely exited (a SIGCHLD may have come before it was listed).
      Promise.all([closed(stdout), closed(stderrStream)]).then(reapAll, () => undefined);
      stdin.on('error', () => undefined);
      return {
        stdin,
        collect: (sink) => collectStream(stdout, sink),
        outcome,
        kill() {
          if (!reaped) {
            try {
              process.kill(-pid, 'SIGKILL');
            } catch {
              try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
            }
          }
          stdout.destroy();
          stderrStream.destroy();
        },
      };
    },
    close: async () => {
      process.off('SIGCHLD', reapAll);
    },
  };
}
