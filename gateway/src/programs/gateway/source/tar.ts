// A build request for the builder, made in memory: an uncompressed POSIX
// (ustar) tar of the template and the user's files, the layout the OpenFaaS
// Function Builder API takes (com.openfaas.docker.config and context/). The
// contexts are small (a template and a few text files, SOURCE_LIMIT at most),
// so no streaming library is needed; long paths use ustar's prefix field.

export interface TarEntry {
  path: string;
  content: Buffer | string;
  /** File mode; 0o644 unless given (0o755 for scripts that must run). */
  mode?: number;
}

const BLOCK = 512;

function writeString(header: Buffer, text: string, offset: number, length: number): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar: "${text}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  // length - 1 digits, then NUL
  writeString(header, value.toString(8).padStart(length - 1, '0'), offset, length - 1);
}

/** Splits a path into ustar's prefix (155 bytes) and name (100 bytes) at a slash. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  throw new Error(`tar: the path ${path} is too long`);
}

/** The header block of one regular file. */
function tarHeader(path: string, size: number, mode: number, mtime: number): Buffer {
  if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`tar: ${path} is not a relative path inside the archive`);
  const header = Buffer.alloc(BLOCK);
  const { prefix, name } = splitPath(path);
  writeString(header, name, 0, 100);
  writeOctal(header, mode, 100, 8);
  writeOctal(header, 0, 108, 8); // uid
  writeOctal(header, 0, 116, 8); // gid
  writeOctal(header, size, 124, 12);
  writeOctal(header, mtime, 136, 12);
  header.fill(' ', 148, 156); // the checksum counts itself as spaces
  header[156] = '0'.charCodeAt(0); // a regular file
  writeString(header, 'ustar', 257, 6);
  writeString(header, '00', 263, 2);
  writeString(header, prefix, 345, 155);
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** The whole archive: each file's header and content padded to 512 bytes, then two empty blocks. */
export function packTar(entries: readonly TarEntry[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : entry.content;
    parts.push(tarHeader(entry.path, content.length, entry.mode ?? 0o644, mtime), content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
