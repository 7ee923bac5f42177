/**
 * Holds a process's stdout until its exit status is known (so a failure can
 * still answer 500), without holding a large output whole in memory: the
 * first `memoryLimit` bytes stay in memory, the rest goes to a temporary file
 * that is streamed out and deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export class SpillBuffer {
  private readonly chunks: Buffer[] = [];
  private memoryBytes = 0;
  private file: { path: string; handle: FileHandle } | undefined;
  size = 0;

  constructor(private readonly memoryLimit: number, private readonly dir: string) {}

  /** Reads `source` to its end; awaiting each file write gives back-pressure. */
  async consume(source: Readable): Promise<void> {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      this.size += chunk.length;
      if (!this.file && this.memoryBytes + chunk.length <= this.memoryLimit) {
        this.chunks.push(chunk);
        this.memoryBytes += chunk.length;
        continue;
      }
      if (!this.file) {
        const path = join(this.dir, `watchdog-out-${process.pid}-${randomBytes(6).toString('hex')}`);
        this.file = { path, handle: await open(path, 'wx', 0o600) };
      }
      await this.file.handle.write(chunk);
    }
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
