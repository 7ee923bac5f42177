/**
 * Stores one body as a new file in the data directory, streaming (a large
 * body is never held in memory), and returns the file name: the arrival time
 * (to the millisecond) and a random suffix; files are created exclusively, so
 * two bodies never share one.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export function stashName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(4).toString('hex')}.body`;
}

export async function stashBody(body: Readable, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = stashName();
  await pipeline(body, createWriteStream(join(dir, name), { flags: 'wx', mode: 0o640 }));
  return name;
}
