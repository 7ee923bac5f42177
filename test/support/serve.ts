// A server under test on a free port of 127.0.0.1 for a block of unit tests:
// listening before its tests, closed after them. Shared by the sample
// functions' tests (each serves its own handler).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** Serves `server` for the tests of the current block; answers a getter of its URL (with the trailing slash). */
export function serveDuringTests(server: Server): () => string {
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  return () => url;
}
