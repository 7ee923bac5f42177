// X-Build-Signature: "sha256=" and the hex HMAC-SHA256 of the request body,
// keyed with the payload secret (what faas-cli --payload-secret and the
// OpenFaaS builder API send). The HMAC is computed over the bytes as they
// arrive, so the body is never held in memory to check it.
import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export type ParsedSignature = { ok: true; digest: Buffer } | { ok: false; reason: string };

/** Reads the header; anything but sha256=<64 hex digits> is refused with the reason. */
export function parseSignature(header: string | undefined): ParsedSignature {
  if (!header) return { ok: false, reason: 'X-Build-Signature is missing' };
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return { ok: false, reason: 'X-Build-Signature must be sha256=<the hex HMAC-SHA256 of the body>' };
  return { ok: true, digest: Buffer.from(match[1]!, 'hex') };
}

/** The payload secret as faas-cli uses it: the file's content, surrounding whitespace trimmed. */
export async function readPayloadSecret(path: string): Promise<Buffer | undefined> {
  try {
    const secret = (await readFile(path, 'utf8')).trim();
    return secret ? Buffer.from(secret) : undefined;
  } catch {
    return undefined;
  }
}

/** HMAC of a body fed chunk by chunk, compared in constant time once it is complete. */
export class SignatureCheck {
  private readonly hmac: Hmac;

  constructor(secret: Buffer) {
    this.hmac = createHmac('sha256', secret);
  }

  update(chunk: Buffer): void {
    this.hmac.update(chunk);
  }

  /** True when the body fed so far has this signature (call once, at the end). */
  matches(expected: Buffer): boolean {
    const actual = this.hmac.digest();
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}

/** The header value for a body (clients and tests). */
export function sign(body: Buffer | string, secret: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
