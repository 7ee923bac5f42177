// A real nats-server (JetStream on) for the queue's tests, on a free port with
// a store of its own, started from the nats-server on PATH (Debian's package;
// `npm test` installs it, as the stack's NATS stand-in is made from it).
// Never a fake: these tests are about what JetStream itself does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { QueueConnection } from '../../../src/queue/connection.js';
import { freePort } from './free-port.js';

export interface NatsServer {
  url: string;
  monitoringUrl: string;
  /** Stops the server (SIGKILL: a crash) and starts it again on the same port and store. */
  restart(options?: { keepStore?: boolean }): Promise<void>;
  /**
   * Stops answering with its connections open (SIGSTOP), as a server whose node or
   * network went away; resolves once every thread has stopped. resume() undoes it.
   */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

export async function startNats(options: { maxFileStore?: string } = {}): Promise<NatsServer> {
  if (spawnSync('nats-server', ['--version']).error) {
    throw new Error('nats-server is not on PATH: these tests run a real one (Debian: apt-get install nats-server; npm test installs it)');
  }
  const [port, httpPort] = [await freePort(), await freePort()];
  let store = mkdtempSync(join(tmpdir(), 'nats-test-'));
  let child: ChildProcess | undefined;
  const args = () => ['-a', '127.0.0.1', '-p', String(port), '-m', String(httpPort), '-js', '-sd', store, ...(options.maxFileStore ? ['--max_file_store', options.maxFileStore] : [])];
  const launch = async () => {
    child = spawn('nats-server', args(), { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz?js-enabled-only=true`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('nats-server did not start');
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    monitoringUrl: `http://127.0.0.1:${httpPort}`,
    async restart({ keepStore = true } = {}) {
      await kill();
      if (!keepStore) {
        rmSync(store, { recursive: true, force: true });
        store = mkdtempSync(join(tmpdir(), 'nats-test-'));
      }
      await launch();
    },
    async pause() {
      if (!child?.pid) throw new Error('nats-server is not running');
      child.kill('SIGSTOP');
      // The signal is queued: a thread on the other CPU can still answer a request
      // already read, so wait until the kernel says every thread is stopped.
      const deadline = Date.now() + 5_000;
      while (!allThreadsStopped(child.pid)) {
        if (Date.now() > deadline) throw new Error('nats-server did not stop within 5 s of SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      child?.kill('SIGCONT');
      await kill();
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/**
 * One nats-server for a test file: started before its tests and stopped after
 * them, once what they opened is closed (the last opened first).
 */
export function natsForFile(log: Logger): {
  server(): NatsServer;
  /** A connection closed after the file's tests. */
  connection(name: string): QueueConnection;
  closeAfterAll(...close: Array<() => unknown>): void;
} {
  let nats: NatsServer | undefined;
  const closing: Array<() => unknown> = [];
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    for (const close of closing.reverse()) await close();
    await nats?.stop();
  });
  const server = (): NatsServer => {
    if (!nats) throw new Error('nats-server is not started yet (use it inside a test)');
    return nats;
  };
  return {
    server,
    connection(name) {
      const c = new QueueConnection(server().url, log, name);
      closing.push(() => c.close());
      return c;
    },
    closeAfterAll(...close) {
      closing.push(...close);
    },
  };
}

/** Whether every thread of `pid` is in the stopped state ('T' in /proc/<pid>/task/<tid>/stat). */
function allThreadsStopped(pid: number): boolean {
  const threads = readdirSync(`/proc/${pid}/task`);
  return threads.every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The state follows the command name in parentheses, which may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  });
}
