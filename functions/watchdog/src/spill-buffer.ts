/**
 * Holds a process's stdout until its exit status is known (so a failure can
 * still answer 500), without holding a large output whole in memory: the
 * first `memoryLimit` bytes stay in memory, the rest goes to a temporary file
 * that is streamed out and deleted afterwards. Whatever the filesystem under
 * the spill directory, an output larger than `maxBytes` (max_output) is
 * refused: one `yes` would otherwise fill the disk.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export class OutputLimitError extends Error {
  constructor(readonly limit: number) {
    super(`the output is larger than max_output (${formatBytes(limit)})`);
  }
}

/** 67108864 -> "64 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && value % 1024 === 0 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}

export class SpillBuffer {
  private readonly chunks: Buffer[] = [];
  private memoryBytes = 0;
  private file: { path: string; handle: FileHandle } | undefined;
  size = 0;

  constructor(
    private readonly memoryLimit: number,
    private readonly dir: string,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  private pendingWrite: Promise<void> | undefined;

  /**
   * Takes one chunk. Returns undefined when it was kept in memory, or a promise
   * of the file write: the caller stops its source until it settles
   * (back-pressure). Throws OutputLimitError past maxBytes.
   */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.size + chunk.length > this.maxBytes) throw new OutputLimitError(this.maxBytes);
    this.size += chunk.length;
    if (!this.file && !this.pendingWrite && this.memoryBytes + chunk.length <= this.memoryLimit) {
      this.chunks.push(chunk);
      this.memoryBytes += chunk.length;
      return undefined;
    }
    const previous = this.pendingWrite;
    const written = (async () => {
      await previous;
      if (!this.file) {
        const path = join(this.dir, `watchdog-out-${process.pid}-${randomBytes(6).toString('hex')}`);
        this.file = { path, handle: await open(path, 'wx', 0o600) };
      }
      await this.file.handle.write(chunk);
    })();
    this.pendingWrite = written;
    return written;
  }

  /** Once the source has ended: waits for the last file write and closes the file. */
  async end(): Promise<void> {
    await this.pendingWrite;
    await this.file?.handle.close();
  }

  /** Writes everything held to `target` (not ending it). */
  async writeTo(target: Writable): Promise<void> {
    for (const chunk of this.chunks) target.write(chunk);
    if (!this.file) return;
    const reader = createReadStream(this.file.path);
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      if (!target.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => { target.off('close', onClose); resolve(); };
          const onClose = () => { target.off('drain', onDrain); reject(new Error('client went away')); };
          target.once('drain', onDrain);
          target.once('close', onClose);
        });
      }
    }
  }

  async dispose(): Promise<void> {
    if (!this.file) return;
    await this.file.handle.close().catch(() => undefined);
    await rm(this.file.path, { force: true });
    this.file = undefined;
  }
}

/** Keeps at most `limit` bytes of a stream (stderr for error answers), draining the rest. */
export function collectCapped(source: Readable, limit: number): () => Buffer {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  source.on('data', (chunk: Buffer) => {
    if (kept < limit) {
      const part = chunk.subarray(0, limit - kept);
      chunks.push(part);
      kept += part.length;
      dropped += chunk.length - part.length;
    } else dropped += chunk.length;
  });
  return () => {
    const body = Buffer.concat(chunks);
    return dropped ? Buffer.concat([body, Buffer.from(`\n[${dropped} more bytes of stderr not shown]\n`)]) : body;
  };
}
