// Reads a build request's body as it arrives: the tar the OpenFaaS builder
// API sends, holding `com.openfaas.docker.config` (the build's settings) and
// `context/` (the build context). In one pass it
//  - counts the bytes, and stops at the limit (the caller answers 413),
//  - feeds the HMAC that X-Build-Signature is checked against,
//  - writes the context, renamed from context/<path> to <path>, into a tar
//    file of its own: the context the engine is given (never unpacked here),
//  - keeps the config (a small JSON file).
// A tar that turns out to be invalid is still read to its end (within the
// limit) for the HMAC, so an unsigned request is a 401 however broken it is.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import tar from 'tar-stream';
import type { SignatureCheck } from './signature.js';

const CONFIG_FILE = 'com.openfaas.docker.config';
const CONTEXT_DIR = 'context';
/** The build config is a few hundred bytes; more is not a config. */
const CONFIG_LIMIT = 64 * 1024;
/** What a build context may hold: files, directories and links (no devices or FIFOs). */
const ALLOWED_TYPES = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link']);

export type ReadOutcome =
  | {
      kind: 'read';
      /** Bytes of the request body. */
      bytes: number;
      /** The context as its own tar file (remove it with discard()). */
      contextFile: string;
      /** Entries in the context (files, directories, links). */
      contextEntries: number;
      /** Bytes of the context's files. */
      contextBytes: number;
      /** The build config's raw bytes, when the tar held one. */
      config: Buffer | undefined;
      /** Why the tar is not a build request, when it is not (a 400 once the signature is known good). */
      invalid: string | undefined;
    }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'aborted'; bytes: number };

export interface ReadOptions {
  /** Largest body in bytes. */
  limit: number;
  /** Fed with every byte of the body. */
  signature?: SignatureCheck;
  /** Where the context's tar file goes. */
  workDir: string;
}

/**
 * The path inside the request's tar, normalised ("./context/a/" -> "context/a"),
 * or an error for a name that leaves the archive (absolute, "..").
 */
export function entryName(raw: string): { ok: true; name: string } | { ok: false; reason: string } {
  if (raw.startsWith('/')) return { ok: false, reason: `the entry ${JSON.stringify(raw)} has an absolute path` };
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, reason: `the entry ${JSON.stringify(raw)} leaves the archive ("..")` };
  return { ok: true, name: segments.join('/') };
}

/** Removes a context file once the build is over. */
export function discard(contextFile: string): Promise<void> {
  return rm(contextFile, { force: true });
}

export async function readBuildRequest(body: Readable, options: ReadOptions): Promise<ReadOutcome> {
  const contextFile = join(options.workDir, `context-${randomUUID()}.tar`);
  const extract = tar.extract();
  const pack = tar.pack();
  const file = createWriteStream(contextFile, { mode: 0o600 });
  const written = new Promise<void>((resolve, reject) => {
    file.once('close', resolve);
    file.once('error', reject);
  });
  pack.pipe(file);

  let invalid: string | undefined;
  let config: Buffer | undefined;
  let contextEntries = 0;
  let contextBytes = 0;
  const fail = (reason: string) => {
    if (invalid) return;
    invalid = reason;
    extract.destroy();
  };
  extract.on('error', (error: Error) => fail(`the body is not a valid tar: ${error.message}`));

  extract.on('entry', (header, stream, next) => {
    const skip = () => {
      stream.on('end', () => next());
      stream.resume();
    };
    const named = entryName(header.name);
    if (!named.ok) {
      fail(named.reason);
      return skip();
    }
    const { name } = named;
    if (name === CONFIG_FILE) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk) => {
        size += (chunk as Buffer).length;
        if (size <= CONFIG_LIMIT) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        if (size > CONFIG_LIMIT) fail(`${CONFIG_FILE} is larger than ${CONFIG_LIMIT} bytes`);
        else config = Buffer.concat(chunks);
        next();
      });
      return;
    }
    if (name === CONTEXT_DIR) return skip();
    if (!name.startsWith(`${CONTEXT_DIR}/`)) return skip(); // neither config nor context: not ours to use
    const type = header.type ?? 'file';
    if (!ALLOWED_TYPES.has(type)) {
      fail(`the entry ${JSON.stringify(header.name)} is a ${type}: a build context holds files, directories and links only`);
      return skip();
    }
    let linkname = header.linkname;
    if (type === 'link' && linkname) {
      // A hard link names another entry of the archive: it moves with the context.
      const target = entryName(linkname);
      if (!target.ok || !target.name.startsWith(`${CONTEXT_DIR}/`)) {
        fail(`the hard link ${JSON.stringify(header.name)} points outside context/`);
        return skip();
      }
      linkname = target.name.slice(CONTEXT_DIR.length + 1);
    }
    contextEntries++;
    if (type === 'file' || type === 'contiguous-file') contextBytes += header.size ?? 0;
    const entry = pack.entry(
      {
        name: name.slice(CONTEXT_DIR.length + 1),
        type: type === 'contiguous-file' ? 'file' : type,
        size: type === 'file' || type === 'contiguous-file' ? header.size : 0,
        mode: header.mode,
        mtime: header.mtime,
        linkname,
        uid: 0,
        gid: 0,
      },
      (error) => {
        if (error) fail(`cannot write the context: ${error.message}`);
        next();
      },
    );
    stream.pipe(entry);
  });

  let bytes = 0;
  const cleanup = async () => {
    extract.destroy();
    pack.destroy();
    file.destroy();
    await written.catch(() => undefined);
    await discard(contextFile);
  };

  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > options.limit) {
        await cleanup();
        return { kind: 'too-large', bytes };
      }
      options.signature?.update(chunk);
      if (invalid) continue; // read on for the signature only
      if (!extract.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            extract.off('drain', done);
            extract.off('close', done);
            resolve();
          };
          extract.on('drain', done);
          extract.on('close', done);
        });
      }
    }
  } catch {
    // The client went away (or the connection broke) before the body was complete.
    await cleanup();
    return { kind: 'aborted', bytes };
  }

  if (!invalid) {
    await new Promise<void>((resolve) => {
      extract.once('close', () => resolve());
      extract.end(() => resolve());
    });
  }
  if (invalid) {
    await cleanup();
    return { kind: 'read', bytes, contextFile, contextEntries, contextBytes, config, invalid };
  }
  pack.finalize();
  try {
    await written;
  } catch (error) {
    await cleanup();
    return { kind: 'read', bytes, contextFile, contextEntries, contextBytes, config, invalid: `cannot write the context: ${(error as Error).message}` };
  }
  if (contextEntries === 0) {
    await discard(contextFile);
    return { kind: 'read', bytes, contextFile, contextEntries, contextBytes, config, invalid: 'the tar holds no context/ folder (the build context)' };
  }
  return { kind: 'read', bytes, contextFile, contextEntries, contextBytes, config, invalid: undefined };
}
