// At most N builds at once; the others wait in order and hear where they stand.
import { describe, expect, it } from 'vitest';
import { BuildSlots, QueueFull } from '../../src/slots.js';

describe('build slots', () => {
  it('runs N at once and tells the others how many are ahead as the line moves', async () => {
    const slots = new BuildSlots(1, 5);
    const heard: Record<string, number[]> = { b: [], c: [] };
    const a = await slots.acquire({ onPosition: () => undefined });
    const b = slots.acquire({ onPosition: (n) => heard.b!.push(n) });
    const c = slots.acquire({ onPosition: (n) => heard.c!.push(n) });
    expect(heard).toEqual({ b: [1], c: [2] });
    expect([slots.active, slots.waiting]).toEqual([1, 2]);
    a();
    const releaseB = await b;
    expect(heard.c).toEqual([2, 1]);
    releaseB();
    (await c)();
    expect([slots.active, slots.waiting]).toEqual([0, 0]);
  });

  it('lets a waiting request go when its client leaves, and refuses beyond the queue', async () => {
    const slots = new BuildSlots(1, 1);
    const first = await slots.acquire({ onPosition: () => undefined });
    const leaving = new AbortController();
    const waiting = slots.acquire({ onPosition: () => undefined, signal: leaving.signal });
    await expect(slots.acquire({ onPosition: () => undefined })).rejects.toBeInstanceOf(QueueFull);
    leaving.abort();
    await expect(waiting).rejects.toThrow(/abandoned/);
    expect(slots.waiting).toBe(0);
    first();
    first(); // twice is harmless
    expect(slots.active).toBe(0);
  });
});
