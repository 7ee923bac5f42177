/**
 * Classic mode's default process starter: the native spawner
 * (native/spawner.c), started once, which starts each request's process with
 * posix_spawn instead of Node forking its whole address space on the event
 * loop's thread (1.6–2 ms a process here, all on one core). Each run is one
 * connection to the spawner's Unix socket: a header (argv, environment), then
 * the body, half-closed at its end; back come frames of stdout, then the exit
 * status with stderr. Closing the connection early kills the process group.
 * The protocol is described at the top of native/spawner.c.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvOverlay, Outcome, OutputSink, ProcessRun, ProcessStarter } from './process-run.js';

const FRAME_STDOUT = 0x4f; // 'O'
const FRAME_EXIT = 0x58; // 'X'
const FRAME_FAILED = 0x46; // 'F'

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/** The base environment as text, once: entries that no overlay can touch, and the Http_* others. */
interface EncodedBase {
  text: string;
  count: number;
  overridable: [string, string][];
}
const encodedBases = new WeakMap<NodeJS.ProcessEnv, EncodedBase>();

function encodeBase(env: NodeJS.ProcessEnv): EncodedBase {
  let encoded = encodedBases.get(env);
  if (encoded) return encoded;
  encoded = { text: '', count: 0, overridable: [] };
  for (const name in env) {
    const value = env[name];
    if (value === undefined) continue;
    if (name.startsWith('Http_')) encoded.overridable.push([name, value]);
    else {
      encoded.text += `${name}=${value}\0`;
      encoded.count++;
    }
  }
  encodedBases.set(env, encoded);
  return encoded;
}

/** The spawner's request header: u32 length, u32 argc, u32 envc, then NUL-terminated strings: program, argv, environment. */
export function encodeHeader(program: string, argv: readonly string[], base: NodeJS.ProcessEnv, overlay: EnvOverlay): Buffer {
  const encoded = encodeBase(base);
  let text = `${program}\0`;
  for (const arg of argv) text += `${arg}\0`;
  text += encoded.text;
  let envc = encoded.count;
  // Overlay names all start with Http_ (request-env.ts): only those base entries can clash.
  for (const [name, value] of encoded.overridable) {
    if (overlay?.has(name)) continue;
    text += `${name}=${value}\0`;
    envc++;
  }
  if (overlay) {
    for (const [name, value] of overlay) {
      if (value === undefined) continue;
      text += `${name}=${value}\0`;
      envc++;
    }
  }
  const length = Buffer.byteLength(text);
  const header = Buffer.allocUnsafe(12 + length);
  header.writeUInt32LE(8 + length, 0);
  header.writeUInt32LE(argv.length, 4);
  header.writeUInt32LE(envc, 8);
  header.write(text, 12);
  return header;
}

class SpawnerRun implements ProcessRun {
  readonly stdin: Socket;
  readonly outcome: Promise<Outcome>;
  private settle!: (outcome: Outcome) => void;
  private settled = false;
  // stdout: chunks that came before collect() was called, then the sink.
  private sink: OutputSink | undefined;
  private early: Buffer[] = [];
  private pending: Promise<void> | undefined;
  private sinkError: Error | undefined;
  private collected: { resolve: () => void; reject: (err: Error) => void } | undefined;
  // Frame parser state: the 5-byte frame head may arrive split.
  private head = Buffer.alloc(5);
  private headBytes = 0;
  private type = 0;
  private remaining = 0;
  private payload: Buffer[] = [];

  constructor(conn: Socket, header: Buffer, private readonly file: string) {
    this.stdin = conn;
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    // Header, body and its end in one write when the body came with the request
    // (the common small one): the spawner then wakes once for all of it, not
    // three times. By the check phase the body that arrived has been piped in.
    conn.cork();
    conn.write(header);
    setImmediate(() => conn.uncork());
    conn.on('data', (chunk: Buffer) => this.parse(chunk));
    conn.on('error', (error: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET once the outcome is known: the process did not read all of its stdin.
      if (!this.settled) this.finish({ error: new Error(`lost the process starter: ${error.message}`) });
    });
    conn.on('close', () => {
      if (!this.settled) this.finish({ error: new Error('the process starter closed the connection') });
    });
    if (conn.destroyed) process.nextTick(() => this.finish({ error: new Error('the process starter closed the connection') }));
  }

  private parse(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining === 0 && this.headBytes < 5) {
        const take = Math.min(5 - this.headBytes, chunk.length - off);
        chunk.copy(this.head, this.headBytes, off, off + take);
        this.headBytes += take;
        off += take;
        if (this.headBytes < 5) return;
        this.type = this.head[0]!;
        this.remaining = this.head.readUInt32LE(1);
        if (this.remaining === 0) this.frameDone();
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - off);
      const part = chunk.subarray(off, off + take);
      off += take;
      this.remaining -= take;
      if (this.type === FRAME_STDOUT) {
        this.output(part);
      } else {
        this.payload.push(part);
      }
      if (this.remaining === 0) this.frameDone();
    }
  }

  private frameDone(): void {
    this.headBytes = 0;
    if (this.type === FRAME_STDOUT) return;
    const body = Buffer.concat(this.payload);
    this.payload = [];
    if (this.type === FRAME_EXIT) {
      const code = body.readInt32LE(0);
      const signal = body.readInt32LE(4);
      const dropped = body.readUInt32LE(8);
      let stderr = body.subarray(12);
      if (dropped) stderr = Buffer.concat([stderr, Buffer.from(`\n[${dropped} more bytes of stderr not shown]\n`)]);
      this.finish({ code: signal ? null : code, signal: signal ? (signalNames.get(signal) ?? null) : null, stderr });
    } else if (this.type === FRAME_FAILED) {
      const text = body.toString();
      const error = new Error(`spawn ${this.file} ${text}`) as NodeJS.ErrnoException;
      error.code = text.split(':', 1)[0];
      this.finish({ error });
    }
  }

  private output(chunk: Buffer): void {
    if (this.sinkError) return;
    if (!this.sink) {
      this.early.push(chunk);
      return;
    }
    try {
      const written = this.sink.write(chunk);
      if (!written) return;
      // A file write: hold the connection (and so the process) until it is done.
      this.stdin.pause();
      this.pending = written.then(
        () => {
          this.pending = undefined;
          if (!this.sinkError) this.stdin.resume();
        },
        (err: Error) => this.failSink(err),
      );
    } catch (err) {
      this.failSink(err as Error);
    }
  }

  private failSink(err: Error): void {
    this.sinkError = err;
    this.collected?.reject(err);
  }

  collect(sink: OutputSink): Promise<void> {
    this.sink = sink;
    const promise = new Promise<void>((resolve, reject) => (this.collected = { resolve, reject }));
    for (const chunk of this.early.splice(0)) this.output(chunk);
    if (this.settled) this.endOutput();
    return promise;
  }

  private endOutput(): void {
    if (!this.collected || this.sinkError) return;
    const { resolve } = this.collected;
    if (this.pending) this.pending.then(() => !this.sinkError && resolve());
    else resolve();
  }

  private finish(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    this.endOutput();
    this.settle(outcome);
    // The spawner has said everything; closing tells it the exchange is over.
    this.stdin.destroy();
  }

  kill(): void {
    // A connection closed before the outcome kills the process group.
    this.stdin.destroy();
  }
}

/** The executable file `name` names in PATH (as execvp would find it), or undefined. */
export function findInPath(name: string, path: string | undefined): string | undefined {
  if (name.includes('/')) return undefined;
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const candidate = join(dir || '.', name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export interface NativeStarterOptions {
  binary: string;
  log: (line: string) => void;
}

/** Starts the spawner and resolves once it listens; rejects when it cannot start. */
export async function startNativeStarter({ binary, log }: NativeStarterOptions): Promise<ProcessStarter> {
  const dir = mkdtempSync(join(tmpdir(), 'watchdog-spawner-'));
  const socketPath = join(dir, 'spawner.sock');
  let child: ChildProcess;
  let closing = false;
  // Where each program name was found in PATH, looked up once (not on every exec).
  const programs = new Map<string, string>();
  const lookUp = (file: string) => {
    if (!programs.has(file)) {
      const found = findInPath(file, process.env.PATH);
      if (found) programs.set(file, found);
    }
  };
  // A connection made ahead of time: the next run skips connect and accept.
  let spare: Socket | undefined;
  const takeConnection = (): Socket => {
    // A spare that lost its spawner (it died and was started again) is closed: not that one.
    const conn = spare && !spare.destroyed ? spare : connect(socketPath);
    spare = undefined;
    setImmediate(() => {
      if (spare || closing) return;
      const next = connect(socketPath);
      const drop = () => {
        if (spare === next) spare = undefined;
      };
      next.on('error', drop);
      next.on('close', drop);
      spare = next;
    });
    return conn;
  };

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const started = spawn(binary, [socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
      child = started;
      let said = '';
      started.once('error', reject);
      started.stdout!.on('data', (d: Buffer) => {
        said += d;
        if (said.includes('ready\n')) resolve();
      });
      started.once('exit', (code, signal) => {
        reject(new Error(`the spawner exited (${signal ?? `exit status ${code}`}) before it was ready`));
        if (closing) return;
        // Requests in flight fail (their connections close); later ones get a new spawner.
        log(`watchdog: the spawner exited (${signal ?? `exit status ${code}`}); starting it again`);
        launch().catch((err: Error) => log(`watchdog: cannot start the spawner again: ${err.message}`));
      });
    });
  await launch();

  return {
    kind: 'native',
    prepare: lookUp,
    run: (file, args, base, overlay) => new SpawnerRun(takeConnection(), encodeHeader(programs.get(file) ?? file, [file, ...args], base, overlay), file),
    async close() {
      closing = true;
      spare?.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin!.end(); // its end of file: it kills what still runs and exits
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
