/**
 * One run of fprocess as classic mode sees it, whoever started it: stdin for
 * the request body, stdout to read, and the outcome once the process has
 * ended and closed its output (exit status and the first 64 KiB of stderr).
 * kill() stops it and everything it started (its process group).
 *
 * Two starters: the native spawner (spawner-client.ts, the default where its
 * binary is present) and Node's child_process (here), the fallback.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { killGroup } from './process-group.js';
import { collectCapped } from './spill-buffer.js';

export type Outcome =
  | { code: number | null; signal: NodeJS.Signals | null; stderr: Buffer }
  | { error: Error };

/** Where stdout goes: a promise back means "wait for it before the next chunk". */
export interface OutputSink {
  write(chunk: Buffer): Promise<void> | undefined;
}

export interface ProcessRun {
  readonly stdin: Writable;
  /** Feeds stdout to `sink` to its end; rejects with the sink's error (the caller then kills the process). */
  collect(sink: OutputSink): Promise<void>;
  readonly outcome: Promise<Outcome>;
  kill(): void;
}

/** Variables laid over the base environment for one run (undefined: removed). */
export type EnvOverlay = ReadonlyMap<string, string | undefined> | undefined;

export interface ProcessStarter {
  readonly kind: 'native' | 'node';
  /** Work a starter may do once for a program it will run often (the native one looks it up in PATH). */
  prepare?(file: string): void;
  /** `base` is the same object for every run (the starter may keep work done on it). */
  run(file: string, args: readonly string[], base: NodeJS.ProcessEnv, overlay: EnvOverlay): ProcessRun;
  close(): Promise<void>;
}

export const STDERR_LIMIT = 64 * 1024;

/** child_process.spawn, each process leading a session of its own (detached). */
export const nodeStarter: ProcessStarter = {
  kind: 'node',
  run(file, args, base, overlay) {
    let env = base;
    if (overlay) {
      env = { ...base };
      for (const [name, value] of overlay) {
        if (value === undefined) delete env[name];
        else env[name] = value;
      }
    }
    const child = spawn(file, args, { env, detached: true, stdio: 'pipe' });
    const stderr = collectCapped(child.stderr!, STDERR_LIMIT);
    const outcome = new Promise<Outcome>((resolve) => {
      child.once('error', (error) => resolve({ error }));
      child.once('close', (code, signal) => resolve({ code, signal, stderr: stderr() }));
    });
    const stdout = child.stdout!;
    return {
      stdin: child.stdin!,
      collect: (sink) =>
        new Promise<void>((resolve, reject) => {
          let pending: Promise<void> | undefined;
          stdout.on('data', (chunk: Buffer) => {
            try {
              pending = sink.write(chunk);
            } catch (err) {
              stdout.destroy();
              return reject(err as Error);
            }
            if (!pending) return;
            stdout.pause();
            pending.then(
              () => stdout.resume(),
              (err: Error) => {
                stdout.destroy();
                reject(err);
              },
            );
          });
          stdout.once('close', () => void Promise.resolve(pending).then(() => resolve(), () => undefined));
        }),
      outcome,
      kill() {
        killGroup(child);
        // A process that escaped the group could hold stdout open: stop waiting for it.
        child.stdout?.destroy();
        child.stderr?.destroy();
      },
    };
  },
  close: async () => undefined,
};
