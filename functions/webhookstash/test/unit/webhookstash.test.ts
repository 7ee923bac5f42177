import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stashBody } from '../../src/stash.js';

describe('stashBody', () => {
  it('stores each body, binary and large ones included, under a new name it returns', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'stash-')), 'data'); // created on first use
    const bodies = [Buffer.from('{"event":"push"}'), randomBytes(3_000_000), Buffer.alloc(0)];
    const names: string[] = [];
    for (const body of bodies) names.push(await stashBody(Readable.from([body]), dir));
    expect(new Set(names).size).toBe(3);
    names.forEach((name, i) => {
      expect(name).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}\.body$/);
      expect(readFileSync(join(dir, name)).equals(bodies[i]!)).toBe(true);
    });
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
  });
});
