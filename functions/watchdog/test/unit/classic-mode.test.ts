/** The watchdog in classic mode, against real processes. */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processesWith, processTable, startWatchdog, waitFor, zombiesOfThisProcess, descendantsOfThisProcess, STARTERS, type Running, type StarterName } from '../helpers.js';

let running: Running | undefined;
afterEach(async () => {
  await running?.dispose();
  running = undefined;
});

let starter: StarterName = 'native';
async function start(env: Record<string, string>, extra?: { memoryBufferBytes?: number; spillDir?: string }): Promise<Running> {
  running = await startWatchdog({ exec_timeout: '10s', ...env }, { starter, ...extra });
  return running;
}

/** A POST through node:http, the body written by `send`: for uploads that stall or crawl. */
async function rawPost(url: string, headers: Record<string, string>, send: (req: import('node:http').ClientRequest) => Promise<void>) {
  const { request } = await import('node:http');
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', () => undefined);
    send(req).catch(reject);
  });
}

async function post(url: string, body?: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

// Every behaviour holds whichever starts the processes: the native spawner or Node.
describe.each(STARTERS)('processes started by %s', (name) => {
  beforeEach(() => {
    starter = name;
  });

  describe('echo through cat', () => {
    it('answers 200 with the text it was sent, the request content type and X-Duration-Seconds', async () => {
      const wd = await start({ fprocess: 'cat' });
      const { res, body } = await post(wd.url, 'Hello, Function as a Service', { 'content-type': 'text/plain' });
      expect(res.status).toBe(200);
      expect(body.toString()).toBe('Hello, Function as a Service');
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(Number(res.headers.get('x-duration-seconds'))).toBeGreaterThan(0);
      expect(Number(res.headers.get('x-duration-seconds'))).toBeLessThan(5);
    });

    // Sizes around the 64 KiB pipe buffer and the in-memory limit (set to 1 MiB here).
    it.each([1, 1000, 65_536, 65_537, 1 << 20, (1 << 20) + 1, 3_000_001, 10_000_000])(
      'gives back a binary body of %i bytes unchanged',
      async (size) => {
        const wd = await start({ fprocess: 'cat' }, { memoryBufferBytes: 1 << 20 });
        const payload = randomBytes(size);
        const { res, body } = await post(wd.url, payload, { 'content-type': 'application/octet-stream' });
        expect(res.status).toBe(200);
        expect(Number(res.headers.get('content-length'))).toBe(size);
        expect(body.equals(payload)).toBe(true);
        // Outputs larger than the memory limit spill to a temporary file, which is gone afterwards.
        const spilled = () => readdirSync(dirname(wd.lockFile)).filter((f) => f.startsWith('watchdog-out-'));
        expect(await waitFor(() => spilled().length === 0)).toBe(true);
      },
    );

    it('runs any method; GET has an empty stdin', async () => {
      const wd = await start({ fprocess: 'wc -c' });
      const get = await fetch(`${wd.url}/anything?x=1`);
      expect(get.status).toBe(200);
      expect((await get.text()).trim()).toBe('0');
      for (const method of ['PUT', 'PATCH', 'DELETE']) {
        const res = await fetch(wd.url, { method, body: 'abc' });
        expect(res.status).toBe(200);
        expect((await res.text()).trim()).toBe('3');
      }
    });
  });

  describe('wc', () => {
    it('counts lines, words and bytes of the body', async () => {
      const wd = await start({ fprocess: 'wc' });
      const { res, body } = await post(wd.url, 'one two\nthree\n');
      expect(res.status).toBe(200);
      expect(body.toString().trim().split(/\s+/)).toEqual(['2', '3', '14']);
    });
  });

  describe('failures', () => {
    it('answers 500 with the exit status and stderr when the process exits 3', async () => {
      const wd = await start({ fprocess: `sh -c 'cat >/dev/null; echo partial; echo "it went wrong" >&2; exit 3'` });
      const { res, body } = await post(wd.url, 'x');
      expect(res.status).toBe(500);
      expect(body.toString()).toContain('exit status 3');
      expect(body.toString()).toContain('it went wrong');
      expect(body.toString()).not.toContain('partial');
    });

    it('answers 500 naming the cause when the output cannot be held (spill directory unusable), not the SIGPIPE that follows', async () => {
      const wd = await start({ fprocess: 'head -c 1000000 /dev/zero' }, { memoryBufferBytes: 1024, spillDir: '/nonexistent-spill-dir' });
      const { res, body } = await post(wd.url, 'x');
      expect(res.status).toBe(500);
      expect(body.toString()).toMatch(/^reading the process output failed after \d+ bytes: ENOENT/);
    });

    it('answers 500 when fprocess cannot be started', async () => {
      const wd = await start({ fprocess: '/no/such/program' });
      const { res, body } = await post(wd.url, 'x');
      expect(res.status).toBe(500);
      expect(body.toString()).toMatch(/cannot start fprocess "\/no\/such\/program".*ENOENT/);
    });

    it('kills the process and everything it started after exec_timeout, answering 504', async () => {
      const marker = `${40 + Math.floor(Math.random() * 1000)}.${process.pid}`;
      // A shell that starts a background sleeper and a foreground one: a whole tree.
      const wd = await start({ fprocess: `sh -c 'sleep ${marker} & sleep ${marker}; echo never'`, exec_timeout: '500ms' });
      const started = Date.now();
      const pending = post(wd.url, 'x');
      const sleepers = () => processesWith(`sleep ${marker}`).filter((p) => p.cmdline === `sleep ${marker}`);
      expect(await waitFor(() => sleepers().length === 2)).toBe(true);
      const { res, body } = await pending;
      expect(res.status).toBe(504);
      expect(body.toString()).toContain('exec_timeout');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await waitFor(() => processesWith(`sleep ${marker}`).length === 0)).toBe(true);
    });

    it('kills the process when the client goes away', async () => {
      const marker = `${40 + Math.floor(Math.random() * 1000)}.${process.pid + 1}`;
      const wd = await start({ fprocess: `sleep ${marker}` });
      const abort = new AbortController();
      const pending = fetch(wd.url, { method: 'POST', body: 'x', signal: abort.signal }).catch(() => 'aborted');
      expect(await waitFor(() => processesWith(`sleep ${marker}`).length === 1)).toBe(true);
      abort.abort();
      expect(await pending).toBe('aborted');
      expect(await waitFor(() => processesWith(`sleep ${marker}`).length === 0)).toBe(true);
    });
  });

  describe('load', () => {
    it('answers 50 concurrent requests, each with its own body', async () => {
      const wd = await start({ fprocess: 'cat' });
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => post(wd.url, `request ${i} `.repeat(100)).then(({ res, body }) => [res.status, body.toString()])),
      );
      answers.forEach(([status, body], i) => {
        expect(status).toBe(200);
        expect(body).toBe(`request ${i} `.repeat(100));
      });
    });

    it('leaves no zombie or stray child after 2,000 requests', async () => {
      const wd = await start({ fprocess: 'cat' });
      let ok = 0;
      const worker = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const { res } = await post(wd.url, 'x');
          if (res.status === 200) ok++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, () => worker(250)));
      expect(ok).toBe(2000);
      expect(await waitFor(() => descendantsOfThisProcess().filter((p) => p.cmdline === 'cat').length === 0)).toBe(true);
      expect(zombiesOfThisProcess()).toEqual([]);
      // 2,000 forks: beside CI's two stacks they once took over 120 s.
    }, 300_000);
  });

  describe('options', () => {
    it('cgi_headers (default on) passes headers, method, query and path as Http_* variables', async () => {
      const wd = await start({ fprocess: 'env' });
      const res = await fetch(`${wd.url}/some/path?a=1&b=two`, {
        method: 'PUT',
        body: 'x',
        headers: { 'X-Custom-Thing': 'hello', 'content-type': 'text/plain' },
      });
      const env = await res.text();
      expect(env).toMatch(/^Http_X_Custom_Thing=hello$/m);
      expect(env).toMatch(/^Http_Content_Type=text\/plain$/m);
      expect(env).toMatch(/^Http_Method=PUT$/m);
      expect(env).toMatch(/^Http_Query=a=1&b=two$/m);
      expect(env).toMatch(/^Http_Path=\/some\/path$/m);
      expect(env).toMatch(/^PATH=/m); // the watchdog's own environment too
    });

    it('a header cannot fake Http_Method', async () => {
      const wd = await start({ fprocess: 'env' });
      const env = await (await fetch(wd.url, { method: 'POST', body: 'x', headers: { Method: 'DELETE' } })).text();
      expect(env).toMatch(/^Http_Method=POST$/m);
    });

    it('cgi_headers=false passes none', async () => {
      const wd = await start({ fprocess: 'env', cgi_headers: 'false' });
      const env = await (await fetch(`${wd.url}/p?q=1`, { headers: { 'X-Custom-Thing': 'hello' } })).text();
      expect(env).not.toMatch(/^Http_/m);
    });

    it('marshal_request gives the process JSON of headers and the base64 body', async () => {
      const wd = await start({ fprocess: 'cat', marshal_request: 'true' });
      const payload = randomBytes(100_001);
      const { res, body } = await post(wd.url, payload, { 'X-Thing': 'a' });
      expect(res.status).toBe(200);
      const json = JSON.parse(body.toString()) as { header: Record<string, string[]>; body: { raw: string } };
      expect(json.header['X-Thing']).toEqual(['a']);
      expect(json.header['Content-Length']).toEqual(['100001']);
      expect(Buffer.from(json.body.raw, 'base64').equals(payload)).toBe(true);
      // A GET has no body: the JSON still comes, with an empty raw body.
      const get = await fetch(wd.url, { headers: { 'X-Thing': 'b' } });
      const empty = JSON.parse(await get.text()) as { header: Record<string, string[]>; body: { raw: string } };
      expect(empty.header['X-Thing']).toEqual(['b']);
      expect(empty.body.raw).toBe('');
    });

    it('content_type forces the answer type', async () => {
      const wd = await start({ fprocess: 'cat', content_type: 'application/json' });
      const { res } = await post(wd.url, '{}', { 'content-type': 'text/plain' });
      expect(res.headers.get('content-type')).toBe('application/json');
    });

    it('max_inflight answers 429 beyond the limit, saying it is the limit (X-Max-Inflight, for the gateway) and when to come back', async () => {
      const wd = await start({ fprocess: `sh -c 'sleep 0.5; cat'`, max_inflight: '2' });
      const answers = await Promise.all(Array.from({ length: 4 }, () => post(wd.url, 'x').then(({ res }) => res)));
      expect(answers.filter((r) => r.status === 200)).toHaveLength(2);
      const refused = answers.filter((r) => r.status === 429);
      expect(refused).toHaveLength(2);
      expect(refused[0]!.headers.get('x-max-inflight')).toBe('2');
      expect(refused[0]!.headers.get('retry-after')).toBe('1');
      // A function's own answers carry no such header.
      expect(answers.find((r) => r.status === 200)!.headers.get('x-max-inflight')).toBeNull();
      // Once they are done there is room again.
      expect((await post(wd.url, 'x')).res.status).toBe(200);
    });

    it('write_debug logs one line per request', async () => {
      const wd = await start({ fprocess: 'cat', write_debug: 'true', log_requests: 'false' });
      await post(`${wd.url}/a`, 'x');
      await post(`${wd.url}/b`, 'y');
      await waitFor(() => wd.logs.length >= 2);
      expect(wd.logs).toHaveLength(2);
      expect(wd.logs[0]).toMatch(/POST \/a 200 \d+\.\d+s/);
      expect(wd.logs[1]).toMatch(/POST \/b 200 \d+\.\d+s/);
    });

    it("logs the classic watchdog's lines per request by default (what faas-cli logs and the certifier look for)", async () => {
      const wd = await start({ fprocess: 'cat' });
      await post(wd.url, 'xyz');
      await waitFor(() => wd.logs.length >= 2);
      expect(wd.logs).toHaveLength(2);
      expect(wd.logs[0]).toMatch(/Forking fprocess\.$/);
      expect(wd.logs[1]).toMatch(/Wrote 3 Bytes - Duration: \d+\.\d+ seconds$/);
    });

    it('log_requests=false with write_debug off logs nothing per request', async () => {
      const wd = await start({ fprocess: 'cat', log_requests: 'false' });
      await post(wd.url, 'x');
      await new Promise((r) => setTimeout(r, 100));
      expect(wd.logs).toEqual([]);
    });

    it('read_timeout answers 408 naming the client when its body stops arriving', async () => {
      const wd = await start({ fprocess: 'cat', read_timeout: '300ms' });
      const started = Date.now();
      const answer = await rawPost(wd.url, { 'content-length': '10' }, async (req) => {
        req.write('12345'); // half the body, then nothing
      });
      expect(answer.status).toBe(408);
      expect(answer.text).toMatch(/^read_timeout of 0\.3s: the client sent nothing more of the request \(a body of 10 bytes\) for 0\.3s/);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('read_timeout does not cut a slow but steady upload', async () => {
      // Gaps of 0.7 s under a 2 s timeout: the margin holds when a loaded machine runs a timer late.
      const wd = await start({ fprocess: 'cat', read_timeout: '2s' });
      const chunks = Array.from({ length: 5 }, (_, i) => `chunk ${i};`);
      const started = Date.now();
      const answer = await rawPost(wd.url, { 'content-length': String(chunks.join('').length) }, async (req) => {
        for (const chunk of chunks) {
          req.write(chunk);
          await new Promise((r) => setTimeout(r, 700));
        }
        req.end();
      });
      expect(Date.now() - started).toBeGreaterThan(2_500); // longer than read_timeout in all: the last chunk goes out after 4 gaps
      expect(answer).toEqual({ status: 200, text: chunks.join('') });
    });

    it('a process that does not read its stdin gets a 500 saying so, not a 408 blaming the client', async () => {
      const marker = `${40 + Math.floor(Math.random() * 1000)}.${process.pid + 2}`;
      const wd = await start({ fprocess: `sleep ${marker}`, read_timeout: '400ms' });
      const body = Buffer.alloc(32 << 20, 'x'); // more than every buffer on the way can hold
      const started = Date.now();
      const answer = await rawPost(wd.url, { 'content-length': String(body.length) }, async (req) => {
        req.on('error', () => undefined); // the server answers before taking the whole body
        req.end(body);
      });
      expect(answer.status).toBe(500);
      expect(answer.text).toMatch(/^the function did not read its input \(a body of 33554432 bytes\): the process took nothing from its stdin for 0\.4s \(read_timeout\) and was stopped/);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await waitFor(() => processesWith(`sleep ${marker}`).length === 0)).toBe(true);
    });

    it('max_output: an output over the cap answers 500 naming it, the process is killed, nothing stays on disk', async () => {
      const marker = `spill-cap-${process.pid}-${name}`;
      const wd = await start({ fprocess: `yes ${marker}`, max_output: '3Mi' }, { memoryBufferBytes: 1 << 20 });
      const started = Date.now();
      const { res, body } = await post(wd.url, 'x');
      expect(res.status).toBe(500);
      expect(body.toString()).toBe('the process wrote more than max_output (3 MiB) to stdout: the process was killed and its output dropped\n');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await waitFor(() => processesWith(`yes ${marker}`).length === 0)).toBe(true);
      const spilled = () => readdirSync(dirname(wd.lockFile)).filter((f) => f.startsWith('watchdog-out-'));
      expect(await waitFor(() => spilled().length === 0)).toBe(true);
    });

    it('max_output: an output of exactly the cap is answered whole', async () => {
      const wd = await start({ fprocess: 'head -c 2097152 /dev/zero', max_output: '2Mi' }, { memoryBufferBytes: 1 << 20 });
      const { res, body } = await post(wd.url, 'x');
      expect(res.status).toBe(200);
      expect(body.length).toBe(2 * 1024 * 1024);
    });

    it('write_timeout cuts an answer the client does not read', async () => {
      const wd = await start({ fprocess: 'cat', write_timeout: '300ms' });
      const net = await import('node:net');
      const port = Number(new URL(wd.url).port);
      const body = Buffer.alloc(20_000_000, 'a');
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.pause(); // never read the answer
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
      const connections = () =>
        new Promise<number>((resolve) => wd.watchdog.server.getConnections((_, n) => resolve(n)));
      // The request arrives, the answer is stuck, and the server cuts the connection.
      let open = 1;
      const until = Date.now() + 5000;
      while (Date.now() < until && (open = await connections()) > 0) await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      expect(open).toBe(0);
    });

    it('writes the lock file once ready, and suppress_lock does not', async () => {
      const wd = await start({ fprocess: 'cat' });
      expect(existsSync(wd.lockFile)).toBe(true);
      await wd.stop();
      expect(existsSync(wd.lockFile)).toBe(false);
      await wd.dispose();
      running = undefined;
      const quiet = await start({ fprocess: 'cat', suppress_lock: 'true' });
      expect(existsSync(quiet.lockFile)).toBe(false);
      expect((await fetch(`${quiet.url}/_/health`)).status).toBe(200);
    });
  });
});

describe('the spawner', () => {
  it('is started again when it dies: a request in flight fails with a 500, the next ones are answered', async () => {
    starter = 'native';
    const wd = await start({ fprocess: `sh -c 'sleep 1; cat'` });
    const spawner = () => processTable().filter((p) => p.ppid === process.pid && p.cmdline.includes('spawner'));
    expect(await waitFor(() => spawner().length === 1)).toBe(true);
    const first = spawner()[0]!.pid;
    const inFlight = post(wd.url, 'x');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(first, 'SIGKILL');
    const failed = await inFlight;
    expect(failed.res.status).toBe(500);
    expect(failed.body.toString()).toMatch(/process starter/);
    expect(await waitFor(() => spawner().some((p) => p.pid !== first))).toBe(true);
    // Not even the connection kept ready for the next request (to the old spawner) fails a request.
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 3; i++) statuses.push((await post(wd.url, `again ${i}`)).res.status);
    expect(statuses).toEqual([200, 200, 200]);
    expect(Date.now() - started).toBeLessThan(3 * 1000 + 1500); // each sleeps 1 s: no wait on a dead connection
    expect(wd.logs.join('\n')).toMatch(/the spawner exited \(SIGKILL\); starting it again/);
  });
});

describe('the classic watchdog\'s per-request lines (log_requests)', () => {
  afterEach(async () => {
    await running?.dispose();
    running = undefined;
  });

  it('logs "Forking fprocess." and "Wrote N Bytes - Duration: S seconds" per request, as the classic watchdog does, unless log_requests=false', async () => {
    const wd = await startWatchdog({ fprocess: 'cat' }, { starter: 'node' });
    running = wd;
    await fetch(wd.url, { method: 'POST', body: 'Hello, Function as a Service' });
    const lines = wd.logs.filter((l) => /Forking|Wrote/.test(l));
    expect(lines[0]).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} Forking fprocess\.$/);
    expect(lines[1]).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} Wrote 28 Bytes - Duration: \d+\.\d{6} seconds$/);
    await wd.dispose();
    const quiet = await startWatchdog({ fprocess: 'cat', log_requests: 'false' }, { starter: 'node' });
    running = quiet;
    await fetch(quiet.url, { method: 'POST', body: 'x' });
    expect(quiet.logs.filter((l) => /Forking|Wrote/.test(l))).toEqual([]);
  });
});
