/**
 * HTTP mode's long-running function process: started once, considered ready
 * when its port accepts connections, restarted (with a growing delay) when it
 * dies, and stopped with its whole process group at shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { killGroup } from './process-group.js';

export interface UpstreamProcessOptions {
  command: string[];
  host: string;
  port: number;
  log: (line: string) => void;
}

const MIN_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 5000;
/** A process that ran this long before dying was healthy: restart it quickly again. */
const STABLE_RUN_MS = 10_000;

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class UpstreamProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartDelay = MIN_RESTART_DELAY_MS;
  private readyPromise!: Promise<void>;
  private markReady!: () => void;
  /** How many times the process was (re)started. */
  starts = 0;
  isReady = false;

  constructor(private readonly options: UpstreamProcessOptions) {
    this.resetReady();
  }

  private resetReady(): void {
    this.isReady = false;
    this.readyPromise = new Promise((resolve) => (this.markReady = resolve));
  }

  /** Resolves once the process listens (again, after a restart). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  start(): void {
    const [file, ...args] = this.options.command as [string, ...string[]];
    const startedAt = Date.now();
    const child = spawn(file, args, { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
    this.child = child;
    this.starts++;
    child.once('error', (err) => this.options.log(`function process could not start: ${err.message}`));
    child.once('close', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      if (this.isReady) this.resetReady();
      this.restartDelay = Date.now() - startedAt > STABLE_RUN_MS ? MIN_RESTART_DELAY_MS : this.restartDelay;
      this.options.log(
        `function process exited (${code === null ? `signal ${signal}` : `status ${code}`}); restarting in ${this.restartDelay} ms`,
      );
      const delay = this.restartDelay;
      this.restartDelay = Math.min(this.restartDelay * 2, MAX_RESTART_DELAY_MS);
      setTimeout(() => this.stopping || this.start(), delay).unref();
    });
    void this.waitUntilListening(child);
  }

  private async waitUntilListening(child: ChildProcess): Promise<void> {
    let pause = 10;
    while (this.child === child && !this.stopping) {
      if (await canConnect(this.options.host, this.options.port)) {
        if (this.child !== child) return;
        this.isReady = true;
        this.markReady();
        return;
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 200);
    }
  }

  /** Resolves once the current process has exited and been noticed (true), or after `withinMs` (false). */
  exited(withinMs: number): Promise<boolean> {
    const child = this.child;
    if (!child || !this.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.off('close', onClose);
        resolve(false);
      }, withinMs);
      // After the supervisor's own 'close' listener (registered first), which marks the process not ready.
      const onClose = () => {
        clearTimeout(timer);
        resolve(true);
      };
      child.once('close', onClose);
    });
  }

  /** Asks the process group to stop (SIGTERM), then kills it after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await closed;
    clearTimeout(timer);
  }
}
