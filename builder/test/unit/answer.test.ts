// The answer's progress stream: NDJSON objects in the OpenFaaS builder API's
// shape, each with the lines since the last, the last one success or failed;
// or a single object with the whole log.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BuildAnswer, HEARTBEAT_MS, MAX_LINE, wantsStream } from '../../src/answer.js';

/** The parts of a ServerResponse the answer uses, recording what was sent. */
function fakeResponse() {
  const sent = { status: 0, headers: {} as Record<string, string>, body: '', ended: false };
  const res = Object.assign(new EventEmitter(), {
    headersSent: false,
    writable: true,
    writeHead(status: number, headers: Record<string, string>) {
      sent.status = status;
      sent.headers = headers;
      res.headersSent = true;
      return res;
    },
    flushHeaders() {},
    write(chunk: string) {
      sent.body += chunk;
      return true;
    },
    end(chunk?: string) {
      if (chunk) sent.body += chunk;
      sent.ended = true;
    },
  });
  return { res: res as unknown as ServerResponse, sent, objects: () => sent.body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

afterEach(() => vi.useRealTimers());

describe('the build answer', () => {
  it('streams the lines since the last object, in_progress, then a last object with the rest and the outcome', async () => {
    vi.useFakeTimers();
    const { res, sent, objects } = fakeResponse();
    const answer = new BuildAnswer(res, true, 'hello:latest', performance.now());
    answer.open();
    expect(sent.status).toBe(200);
    expect(sent.headers['content-type']).toBe('application/x-ndjson');
    answer.log('step 1');
    answer.log('step 2');
    await vi.advanceTimersByTimeAsync(300);
    answer.log('step 3');
    answer.finish({ ok: true });
    expect(objects()).toEqual([
      { log: ['step 1', 'step 2'], image: 'hello:latest', status: 'in_progress', duration: expect.any(Number) },
      { log: ['step 3'], image: 'hello:latest', status: 'success', duration: expect.any(Number) },
    ]);
    expect(sent.ended).toBe(true);
  });

  it('ends a failed build with status "failed" (what faas-cli checks) and the error', () => {
    const { res, objects } = fakeResponse();
    const answer = new BuildAnswer(res, true, 'x:1', performance.now());
    answer.open();
    answer.log('#5 ERROR: exit code: 1');
    answer.finish({ ok: false, error: 'exit code: 1' });
    expect(objects()).toEqual([{ log: ['#5 ERROR: exit code: 1'], image: 'x:1', status: 'failed', duration: expect.any(Number), error: 'exit code: 1' }]);
  });

  it('sends an empty object when nothing happened for a while, so the connection is not taken for dead', async () => {
    vi.useFakeTimers();
    const { res, objects } = fakeResponse();
    const answer = new BuildAnswer(res, true, 'x:1', performance.now());
    answer.open();
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS + 10);
    expect(objects()).toEqual([{ log: [], image: 'x:1', status: 'in_progress', duration: expect.any(Number) }]);
    answer.finish({ ok: true });
  });

  it('keeps every object well under the 64 KiB line faas-cli reads, and cuts very long lines', () => {
    const { res, sent, objects } = fakeResponse();
    const answer = new BuildAnswer(res, true, 'x:1', performance.now());
    answer.open();
    for (let i = 0; i < 200; i++) answer.log(`${i} ${'z'.repeat(3000)}`);
    answer.log('y'.repeat(MAX_LINE * 3));
    answer.finish({ ok: true });
    const lines = sent.body.split('\n').filter(Boolean);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(32 * 1024);
    const log = objects().flatMap((o) => o.log as string[]);
    expect(log).toHaveLength(201);
    expect(log.at(-1)).toMatch(/\.\.\. \(8000 more characters\)$/);
  });

  it('answers one object with the whole log without streaming: 200, 422 for a failed build, 502 for the engine', () => {
    for (const [outcome, status] of [
      [{ ok: true }, 200],
      [{ ok: false, error: 'step failed' }, 422],
      [{ ok: false, error: 'engine gone', code: 502 }, 502],
    ] as const) {
      const { res, sent, objects } = fakeResponse();
      const answer = new BuildAnswer(res, false, 'x:1', performance.now());
      answer.open();
      expect(sent.status).toBe(0);
      answer.log('a');
      answer.log('b');
      answer.finish(outcome);
      expect(sent.status).toBe(status);
      expect(objects()).toEqual([{ log: ['a', 'b'], image: 'x:1', status: outcome.ok ? 'success' : 'failed', duration: expect.any(Number), ...(outcome.ok ? {} : { error: outcome.error }) }]);
    }
  });

  it('streams when asked for NDJSON', () => {
    expect(wantsStream('application/x-ndjson')).toBe(true);
    expect(wantsStream('application/json, application/x-ndjson;q=0.9')).toBe(true);
    expect(wantsStream(undefined)).toBe(false);
    expect(wantsStream('*/*')).toBe(false);
  });
});
