// Test helpers: build requests as faas-cli makes them (a tar of context/ and
// com.openfaas.docker.config), read back as tars.
import { Readable } from 'node:stream';
import tar from 'tar-stream';

export interface TarEntry {
  name: string;
  body?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  linkname?: string;
  mode?: number;
}

export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    await new Promise<void>((resolve, reject) => {
      const body = entry.body === undefined ? undefined : Buffer.from(entry.body);
      const header = { name: entry.name, type: entry.type ?? (body ? 'file' : 'directory'), mode: entry.mode ?? (body ? 0o644 : 0o755), ...(entry.linkname ? { linkname: entry.linkname } : {}) } as const;
      if (body) pack.entry({ ...header, size: body.length }, body, (e) => (e ? reject(e) : resolve()));
      else pack.entry(header, (e) => (e ? reject(e) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A request tar the way faas-cli builds it: the context first, the config last. */
export function buildRequestTar(config: unknown, files: Record<string, string> = { Dockerfile: 'FROM scratch\n' }): Promise<Buffer> {
  return makeTar([
    { name: 'context' },
    ...Object.entries(files).map(([name, body]) => ({ name: `context/${name}`, body })),
    { name: 'com.openfaas.docker.config', body: JSON.stringify(config) },
  ]);
}

/** The entries (name, type, body) of a tar. */
export async function readTar(data: Buffer | Readable): Promise<{ name: string; type: string; body: string; linkname?: string }[]> {
  const extract = tar.extract();
  const out: { name: string; type: string; body: string; linkname?: string }[] = [];
  const input = Buffer.isBuffer(data) ? Readable.from([data]) : data;
  input.pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    out.push({ name: entry.header.name, type: entry.header.type ?? 'file', body: Buffer.concat(chunks).toString(), ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}) });
  }
  return out;
}

/** A readable that hands out `data` in chunks of `size` bytes, as a network would. */
export function chunked(data: Buffer, size = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}
