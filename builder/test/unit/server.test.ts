// The builder's HTTP flow against a fake engine: who may build (401 before the
// body is read, 401 after it for a wrong signature), size (413 at once or
// while reading), what (400, 403), and the progress stream of a build that
// waits for a slot, succeeds, fails or runs out of time.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { BuildOutcome, BuildRequest } from '../../src/engine.js';
import { createBuilder, GATEWAY_AUTH_HEADER, type BuildEngine } from '../../src/server.js';
import { sign } from '../../src/signature.js';
import { buildRequestTar, readTar } from '../support.js';

const SECRET = 'the-payload-secret';
const workDir = mkdtempSync(join(tmpdir(), 'builder-server-'));

/** An engine that records builds and runs each as the test says. */
class FakeEngine implements BuildEngine {
  builds: { request: BuildRequest; context: string[] }[] = [];
  pushes: string[] = [];
  behave: (request: BuildRequest) => Promise<BuildOutcome> = async (request) => {
    request.onLines(['Step 1/1 : FROM scratch']);
    return { ok: true, imageId: 'sha256:' + 'f'.repeat(64) };
  };
  local: Record<string, Record<string, string>> = {};
  async build(request: BuildRequest): Promise<BuildOutcome> {
    const entries = await readTar(await import('node:fs').then((fs) => fs.readFileSync(request.contextFile)));
    this.builds.push({ request, context: entries.map((e) => e.name) });
    return this.behave(request);
  }
  async push(image: { repository: string; tag: string }) {
    this.pushes.push(`${image.repository}:${image.tag}`);
    return { ok: true as const, digest: 'sha256:abc' };
  }
  async nodeCount() {
    return 1;
  }
  async localImageLabels(full: string) {
    return this.local[full];
  }
  async servicesUsing() {
    return [];
  }
}

let server: Server;
let engine: FakeEngine;
let url = '';
let builder: ReturnType<typeof createBuilder>;

function start(env: Record<string, string> = {}): Promise<void> {
  engine = new FakeEngine();
  const config = loadConfig({ STACK_NAME: 'func', WORK_DIR: workDir, BUILD_MAX_CONTEXT: '64kb', BUILD_RESERVED: 'swarmfaas/watchdog', BUILD_ARGS: 'WATCHDOG_IMAGE=swarmfaas/watchdog:0.1.0', ...env });
  builder = createBuilder({ config, engine, backend: 'buildkit', log: pino({ level: 'silent' }), secret: Buffer.from(SECRET) });
  server = createServer(builder.listener);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    resolve();
  }));
}
afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function post(body: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/build`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', ...headers } });
  const text = await res.text();
  return { status: res.status, text, objects: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { log: string[]; status: string; error?: string; image: string }) };
}

const signed = (body: Buffer, extra: Record<string, string> = {}) => ({ 'x-build-signature': sign(body, SECRET), ...extra });

describe('the builder', () => {

  it('builds a signed request and streams its progress as NDJSON, ending in success', async () => {
    await start();
    const body = await buildRequestTar({ image: 'hello', buildArgs: { GREETING: 'hi' }, platforms: null, skipPush: false }, { Dockerfile: 'FROM x\n', 'function/h.js': '1' });
    const answer = await post(body, signed(body, { accept: 'application/x-ndjson' }));
    expect(answer.status).toBe(200);
    expect(answer.objects.at(-1)).toMatchObject({ status: 'success', image: 'hello:latest' });
    expect(answer.objects.slice(0, -1).every((o) => o.status === 'in_progress')).toBe(true);
    expect(answer.objects.flatMap((o) => o.log)).toContain('Step 1/1 : FROM scratch');
    expect(engine.builds).toHaveLength(1);
    const [{ request, context }] = engine.builds as [{ request: BuildRequest; context: string[] }];
    expect(context).toEqual(['Dockerfile', 'function/h.js']);
    // The stack's defaults, and the caller's arguments over them.
    expect(request.buildArgs).toEqual({ WATCHDOG_IMAGE: 'swarmfaas/watchdog:0.1.0', GREETING: 'hi' });
    expect(request.image).toBe('hello:latest');
    expect(request.noCache).toBe(false);
    // This builder's own addition: X-Build-No-Cache runs every step again.
    await post(body, signed(body, { 'x-build-no-cache': 'true' }));
    expect(engine.builds[1]!.request.noCache).toBe(true);
  });

  it('answers one JSON object without Accept: application/x-ndjson (422 when the build fails)', async () => {
    await start();
    engine.behave = async (request) => {
      request.onLines(['#5 [2/2] RUN exit 1', '#5 ERROR: exit code: 1']);
      return { ok: false, error: 'exit code: 1', engine: false };
    };
    const body = await buildRequestTar({ image: 'broken:1' });
    const answer = await post(body, signed(body));
    expect(answer.status).toBe(422);
    expect(answer.objects).toHaveLength(1);
    expect(answer.objects[0]).toMatchObject({ status: 'failed', error: 'exit code: 1', image: 'broken:1' });
    expect(answer.objects[0]!.log).toContain('#5 ERROR: exit code: 1');
  });

  it('refuses an unsigned request with 401 without reading it, and a wrongly signed one after, building nothing', async () => {
    await start();
    const body = await buildRequestTar({ image: 'hello' });
    const unsigned = await post(body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.objects[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/X-Build-Signature is missing/) });
    const wrong = await post(body, { 'x-build-signature': sign(body, 'not-the-secret') });
    expect(wrong.status).toBe(401);
    expect(wrong.objects[0]!.error).toMatch(/does not match/);
    const malformed = await post(body, { 'x-build-signature': 'sha1=abc' });
    expect(malformed.status).toBe(401);
    // A broken tar with a wrong signature is still a 401, not a 400.
    const garbage = Buffer.from('x'.repeat(3000));
    expect((await post(garbage, { 'x-build-signature': sign(garbage, 'nope') })).status).toBe(401);
    expect((await post(garbage, signed(garbage))).status).toBe(400);
    expect(engine.builds).toHaveLength(0);
  });

  it("takes the gateway's word for its basic auth", async () => {
    await start();
    const body = await buildRequestTar({ image: 'hello' });
    expect((await post(body, { [GATEWAY_AUTH_HEADER]: 'basic-auth' })).status).toBe(200);
    expect((await post(body, { [GATEWAY_AUTH_HEADER]: 'yes please' })).status).toBe(401);
  });

  it('answers 413 at once for a declared size over the limit, and cuts off a chunked body that grows past it', async () => {
    await start();
    const big = await buildRequestTar({ image: 'big' }, { Dockerfile: 'FROM x\n', blob: 'y'.repeat(100_000) });
    expect((await post(big, signed(big))).status).toBe(413);
    // No Content-Length: the limit is found while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/build`, { method: 'POST', headers: { 'transfer-encoding': 'chunked', ...signed(big) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      let at = 0;
      const pump = () => {
        while (at < big.length) {
          const ok = req.write(big.subarray(at, at + 4096));
          at += 4096;
          if (!ok) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }).catch(() => 413); // the builder may close the connection before the client reads the answer
    expect(status).toBe(413);
    expect(engine.builds).toHaveLength(0);
  });

  it('answers 400 for a request that is not a build request, and 403 for a name that is not the caller\'s', async () => {
    await start();
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /image is required/],
      [{ image: 'Bad Name' }, 400, /not an image name/],
      [{ image: 'x', platforms: ['linux/amd64', 'linux/arm64'] }, 400, /one platform per build/],
      [{ image: 'swarmfaas/watchdog:0.1.0' }, 403, /one of the stack's own images/],
      [{ image: 'theirs:1' }, 403, /made by the builder of the stack other/],
    ];
    for (const [config, status, reason] of cases) {
      const body = await buildRequestTar(config);
      engine.local = { 'theirs:1': { 'com.swarmfaas.builder.stack': 'other' } };
      const answer = await post(body, signed(body));
      expect(answer.status, JSON.stringify(config)).toBe(status);
      expect(answer.objects[0]!.error).toMatch(reason);
    }
    expect(engine.builds).toHaveLength(0);
  });

  it('runs BUILD_CONCURRENCY builds at once; the next waits and says so in its progress', async () => {
    await start({ BUILD_CONCURRENCY: '1' });
    let finishFirst!: () => void;
    const firstRunning = new Promise<void>((started) => {
      engine.behave = (request) =>
        new Promise((resolve) => {
          request.onLines(['building first']);
          started();
          finishFirst = () => resolve({ ok: true, imageId: 'sha256:1' });
        });
    });
    const one = await buildRequestTar({ image: 'one' });
    const two = await buildRequestTar({ image: 'two' });
    const first = post(one, signed(one, { accept: 'application/x-ndjson' }));
    await firstRunning;
    engine.behave = async () => ({ ok: true, imageId: 'sha256:2' });
    const second = post(two, signed(two, { accept: 'application/x-ndjson' }));
    await new Promise((r) => setTimeout(r, 400));
    finishFirst();
    const [a, b] = await Promise.all([first, second]);
    expect(a.objects.at(-1)!.status).toBe('success');
    expect(b.objects.at(-1)!.status).toBe('success');
    const log = b.objects.flatMap((o) => o.log);
    expect(log[0]).toBe('waiting for a build slot: 1 build ahead of this one (BUILD_CONCURRENCY=1)');
    expect(log[1]).toMatch(/^a build slot is free after 0\.\d s$/);
  });

  it('stops a build at BUILD_TIMEOUT and reports it', async () => {
    await start({ BUILD_TIMEOUT: '300ms' });
    engine.behave = (request) =>
      new Promise((resolve) => request.signal.addEventListener('abort', () => resolve({ ok: false, error: 'aborted', engine: false })));
    const body = await buildRequestTar({ image: 'slow' });
    const answer = await post(body, signed(body, { accept: 'application/x-ndjson' }));
    expect(answer.objects.at(-1)).toMatchObject({ status: 'failed', error: 'the build took longer than BUILD_TIMEOUT (0.3 s) and was stopped' });
  });

  it('pushes images under a push prefix once built', async () => {
    await start({ BUILD_PUSH_PREFIXES: '127.0.0.1:5000/' });
    const body = await buildRequestTar({ image: '127.0.0.1:5000/fn:2' });
    const answer = await post(body, signed(body));
    expect(answer.status).toBe(200);
    expect(engine.pushes).toEqual(['127.0.0.1:5000/fn:2']);
    expect(answer.objects[0]!.log).toContain('pushed 127.0.0.1:5000/fn:2@sha256:abc');
  });

  it('answers /healthz, 404 elsewhere and 405 for other methods', async () => {
    await start();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/build`)).status).toBe(405);
  });
});
