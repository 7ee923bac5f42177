// The tests of a file or a describe block take the load-test turn
// (load-turns.ts) before they run, and give it back after them.
import { afterAll, beforeAll } from 'vitest';
import { takeTurn } from './load-turns.js';

export function inTurn(who: string): void {
  let giveBack: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    giveBack = await takeTurn(who);
  }, 15 * 60_000);
  afterAll(async () => {
    await giveBack?.();
  });
}
