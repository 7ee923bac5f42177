// The queue cannot be filled by an anonymous caller (issue: "anyone can fill
// JetStream's disk"): a function's queued calls are capped in bytes and
// messages, the caller past the cap gets 429 with Retry-After while another
// function is still accepted, nothing accepted is lost, and every stream of
// the store has limits. On the real stack, without credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployReceiver, deploySlowEcho, invokeAsync, received, callbackUrl, report } from './support/async.js';
import { docker, containersOf, removeFunction } from './support/functions.js';
import { fn, systemFetch, waitFor } from './support/gateway.js';

const slow = fn('qlslow');
const other = fn('qlother');
const receiver = fn('qlcb');

beforeAll(async () => {
  // A slow function that may hold 4 MiB of queued calls, and one to check that others still take calls.
  await deploySlowEcho(slow, 2_000, { 'com.openfaas.queue.max-bytes': '4Mi', 'com.openfaas.async.max-inflight': '1' });
  await deploySlowEcho(other, 10);
  await deployReceiver(receiver);
}, 240_000);
afterAll(async () => {
  for (const name of [slow, other, receiver]) await removeFunction(name);
});

describe('queue limits', () => {
  it("refuses an anonymous flood of 1 MB calls with 429 and Retry-After once the function's queue is at its cap, keeps taking another function's calls, and loses nothing it accepted", async () => {
    const body = Buffer.alloc(1024 * 1024 - 2048, 'x');
    const started = Date.now();
    const accepted: string[] = [];
    let refused = 0;
    let retryAfter: string | null = null;
    for (let i = 0; i < 30; i++) {
      const id = `flood-${started}-${i}`;
      // No credentials: /async-function needs none.
      const res = await invokeAsync(slow, body, { 'x-call-id': id, 'x-callback-url': callbackUrl(receiver) });
      if (res.status === 202) accepted.push(id);
      else {
        expect(res.status).toBe(429);
        refused++;
        retryAfter = res.retryAfter ?? retryAfter;
        expect(res.text).toMatch(/its limit allows, 4194304 bytes/);
      }
      // Another function is not held up by the full one.
      if (i === 20) expect((await invokeAsync(other, 'still here')).status).toBe(202);
    }
    report(`queue limits: 30 calls of 1 MB to a function capped at 4 MiB: ${accepted.length} accepted, ${refused} refused with 429 (Retry-After ${retryAfter}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(accepted.length).toBeGreaterThanOrEqual(2);
    // Four fit at once; the slow function may have finished one or two meanwhile, making room for as many.
    expect(accepted.length).toBeLessThanOrEqual(6);
    expect(refused).toBe(30 - accepted.length);
    expect(retryAfter).toBe('5');

    // The queue shows its use against its limits.
    const rows = (await (await systemFetch('/system/async/queues')).json()) as Array<{ name: string; queuedBytes: number; limits: { bytes: number } }>;
    const row = rows.find((r) => r.name === slow)!;
    expect(row.limits.bytes).toBe(4 * 1024 * 1024);
    expect(row.queuedBytes).toBeLessThanOrEqual(4 * 1024 * 1024);

    // Every accepted call is made and called back.
    await waitFor(
      'a callback for every accepted call',
      async () => {
        const ids = new Set((await received(receiver)).map((r) => r.callId));
        return accepted.every((id) => ids.has(id)) ? true : undefined;
      },
      120_000,
      1_000,
    );
  });

  it('gives every stream of the store a limit', async () => {
    const [nats] = await containersOf(fn('nats'));
    const jsz = JSON.parse(await docker('exec', nats!, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8222/jsz?streams=true&config=true')) as {
      account_details?: Array<{ stream_detail?: Array<{ name: string; config: { max_bytes: number; max_msgs: number; max_msgs_per_subject: number; max_age: number } }> }>;
    };
    const streams = (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
    expect(streams.length).toBeGreaterThan(3);
    const unbounded = streams.filter(({ config }) => !(config.max_bytes > 0) && !(config.max_msgs_per_subject > 0));
    report(`streams: ${streams.length}, each with a byte or per-subject limit: ${streams.map((s) => `${s.name} ${s.config.max_bytes > 0 ? `${Math.round(s.config.max_bytes / 2 ** 20)} MiB` : `${s.config.max_msgs_per_subject}/subject`}`).join(', ')}`);
    expect(unbounded.map((s) => s.name)).toEqual([]);
  });
});
