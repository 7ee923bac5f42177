// X-Build-Signature: the header's form, and the HMAC fed in chunks.
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSignature, readPayloadSecret, sign, SignatureCheck } from '../../src/signature.js';

describe('the build signature', () => {
  it('reads sha256=<hex> and refuses anything else', () => {
    const hex = 'ab'.repeat(32);
    expect(parseSignature(`sha256=${hex}`)).toEqual({ ok: true, digest: Buffer.from(hex, 'hex') });
    expect(parseSignature(`SHA256=${hex.toUpperCase()}`).ok).toBe(true);
    for (const bad of [undefined, '', hex, `sha1=${'ab'.repeat(20)}`, `sha256=${hex.slice(2)}`, `sha256=${hex}zz`]) {
      expect(parseSignature(bad).ok, String(bad)).toBe(false);
    }
  });

  it('matches the HMAC-SHA256 of the body whatever the chunks, and nothing else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(2000), { maxLength: 6 }), fc.string({ minLength: 1 }), (body, cuts, secret) => {
        const data = Buffer.from(body);
        const expected = createHmac('sha256', secret).update(data).digest();
        const check = new SignatureCheck(Buffer.from(secret));
        let at = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          check.update(data.subarray(at, Math.max(at, Math.min(cut, data.length))));
          at = Math.max(at, Math.min(cut, data.length));
        }
        check.update(data.subarray(at));
        expect(check.matches(expected)).toBe(true);
        const other = new SignatureCheck(Buffer.from(`${secret}x`));
        other.update(data);
        expect(other.matches(expected)).toBe(false);
      }),
    );
    expect(sign('abc', 'k')).toBe(`sha256=${createHmac('sha256', 'k').update('abc').digest('hex')}`);
  });

  it('reads the payload secret as faas-cli does: trimmed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secret-'));
    writeFileSync(join(dir, 's'), '  topsecret\n');
    writeFileSync(join(dir, 'empty'), '\n');
    expect((await readPayloadSecret(join(dir, 's')))?.toString()).toBe('topsecret');
    expect(await readPayloadSecret(join(dir, 'empty'))).toBeUndefined();
    expect(await readPayloadSecret(join(dir, 'missing'))).toBeUndefined();
    rmSync(dir, { recursive: true });
  });
});
