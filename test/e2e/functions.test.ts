// Every sample function of the stack, invoked through the gateway on the real
// Swarm, checking what it answers.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { containersOf as containersOfService, run } from './support/docker.js';
import { fn, gatewayUrl, image, listFunctions, systemFetch, waitFor } from './support/gateway.js';

const SAMPLES = ['echoit', 'wordcount', 'base64', 'decodebase64', 'markdown', 'nodeinfo', 'hubstats', 'webhookstash'];

async function invoke(name: string, body?: string | Buffer, init: RequestInit = {}) {
  const res = await fetch(gatewayUrl(`/function/${fn(name)}`), { method: 'POST', body, signal: AbortSignal.timeout(60_000), ...init });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** IDs of the running containers of one of the stack's services. */
const containersOf = (name: string) => containersOfService(fn(name));

describe('the sample functions', () => {
  it('are all deployed as functions, wordcount with its replica cap', async () => {
    const functions = await listFunctions();
    for (const name of SAMPLES) {
      const found = functions.find((f) => f.name === fn(name));
      expect(found, name).toBeDefined();
      expect(found!.labels.function).toBe('true');
    }
    expect(functions.find((f) => f.name === fn('wordcount'))!.labels['com.faas.max_replicas']).toBe('10');
  });

  it('echoit answers the body it was sent, text and binary', async () => {
    const text = await invoke('echoit', 'Hello, Function as a Service');
    expect(text.status).toBe(200);
    expect(text.body.toString()).toBe('Hello, Function as a Service');
    expect(Number(text.headers.get('x-duration-seconds'))).toBeGreaterThan(0);
    const bytes = randomBytes(200_000);
    const binary = await invoke('echoit', bytes, { headers: { 'content-type': 'application/octet-stream' } });
    expect(binary.status).toBe(200);
    expect(binary.body.equals(bytes)).toBe(true);
  });

  it('wordcount counts lines, words and bytes', async () => {
    const res = await invoke('wordcount', 'one two\nthree\n');
    expect(res.status).toBe(200);
    expect(res.body.toString().trim().split(/\s+/)).toEqual(['2', '3', '14']);
  });

  it('base64 encodes, and decodebase64 of base64 of a payload gives the payload back', async () => {
    const hello = await invoke('base64', 'hello');
    expect(hello.status).toBe(200);
    expect(hello.body.toString().trim()).toBe('aGVsbG8=');
    const payload = randomBytes(100_000);
    const encoded = await invoke('base64', payload);
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.toString(), 'base64').equals(payload)).toBe(true);
    const decoded = await invoke('decodebase64', encoded.body);
    expect(decoded.status).toBe(200);
    expect(decoded.body.equals(payload)).toBe(true);
  });

  it('decodebase64 answers 500 with the reason for input that is not base64', async () => {
    const res = await invoke('decodebase64', '#!not base64!#');
    expect(res.status).toBe(500);
    expect(res.body.toString()).toMatch(/exit status [1-9]/);
  });

  it('markdown turns Markdown into HTML', async () => {
    const res = await invoke('markdown', '# hi\n\nsome *text*\n\n- a\n- b\n');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.body.toString()).toBe('<h1>hi</h1>\n<p>some <em>text</em></p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n');
  });

  it('nodeinfo tells the facts of the node its task runs on', async () => {
    const res = await invoke('nodeinfo');
    expect(res.status).toBe(200);
    const text = res.body.toString();
    expect(text).toMatch(/^Platform: linux$/m);
    expect(text).toMatch(/^CPU count: [1-9]\d*$/m);
    // The hostname is the one of a container of the nodeinfo service (Docker names it after the container ID).
    const hostname = /^Hostname: (\S+)$/m.exec(text)?.[1];
    const containers = await containersOf('nodeinfo');
    expect(containers.some((id) => id.startsWith(hostname!))).toBe(true);
  });

  it('hubstats answers within its timeout: the stats, or a clear error where Docker Hub cannot be reached', async () => {
    const started = Date.now();
    const res = await invoke('hubstats', 'alexellis2');
    const seconds = (Date.now() - started) / 1000;
    const text = res.body.toString();
    if (res.status === 200) {
      expect(text).toMatch(/^The organisation or user alexellis2 has \d+ repositories on the Docker hub\.$/m);
    } else {
      expect(res.status).toBe(500);
      expect(text).toMatch(/hubstats: (cannot reach Docker Hub|no answer from Docker Hub)/);
    }
    process.stderr.write(`[functions e2e] hubstats answered ${res.status} in ${seconds.toFixed(1)} s\n`);
    // HUB_TIMEOUT is 4 s; the watchdog's exec_timeout is 10 s. Allow for a cold start of the task.
    expect(seconds).toBeLessThan(30);
  });

  it('webhookstash stores each body under a new file name that it answers with', async () => {
    const bodies = [Buffer.from('{"event":"push","ref":"main"}'), randomBytes(50_000)];
    const names: string[] = [];
    for (const body of bodies) {
      const res = await invoke('webhookstash', body);
      expect(res.status).toBe(200);
      names.push(res.body.toString().trim());
    }
    expect(names[0]).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}\.body$/);
    expect(names[1]).not.toBe(names[0]);
    // The files are there, in the data directory of the function's container, byte for byte.
    const stored = await waitFor('the stashed files', async () => {
      for (const id of await containersOf('webhookstash')) {
        const contents: Buffer[] = [];
        for (const name of names) {
          const { stdout } = await run('docker', ['exec', id, 'base64', `/home/app/data/${name}`], { maxBuffer: 10_000_000 }).catch(() => ({ stdout: '' }));
          if (stdout) contents.push(Buffer.from(stdout.replace(/\s/g, ''), 'base64'));
        }
        if (contents.length === names.length) return contents;
      }
      return undefined;
    }, 20_000);
    stored.forEach((content, i) => expect(content.equals(bodies[i]!)).toBe(true));
  });
});

/** Deploys a function on the watchdog image; resolves once its watchdog answers /_/health through the gateway. */
async function deployWatchdogFunction(service: string, envProcess: string, envVars: Record<string, string> = {}) {
  const deployed = await systemFetch('/system/functions', {
    method: 'POST',
    body: JSON.stringify({ service, image: image('watchdog'), envProcess, envVars }),
  });
  expect(deployed.status).toBe(202);
  await waitFor(`${service} to answer`, async () => {
    const res = await fetch(gatewayUrl(`/function/${service}/_/health`), { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    await res?.arrayBuffer();
    return res?.status === 200 ? true : undefined;
  }, 90_000);
}

/** A POST through node:http to the gateway, the body written by `send` (uploads that crawl or stall). */
async function upload(service: string, headers: Record<string, string>, send: (req: import('node:http').ClientRequest) => Promise<void>) {
  const { request } = await import('node:http');
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(gatewayUrl(`/function/${service}`), { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', () => undefined); // an answer may come before the whole body went out
    req.setTimeout(90_000, () => reject(new Error('no answer within 90 s')));
    send(req).catch(reject);
  });
}

describe('the watchdog base image on Swarm', () => {
  const tree = fn('wdtree');
  const spill = fn('wdspill');
  const slow = fn('wdslow');
  const deaf = fn('wddeaf');
  afterAll(async () => {
    for (const functionName of [tree, spill, slow, deaf]) {
      await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName }) }).catch(() => undefined);
    }
  });

  it('caps what a process may write (max_output, 64 MiB by default): `yes` answers 500 naming the cap and leaves no spill file', async () => {
    await deployWatchdogFunction(spill, 'yes');
    const started = Date.now();
    const res = await fetch(gatewayUrl(`/function/${spill}`), { method: 'POST', body: 'x', signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    console.log(`[security] \`yes\` as a function: ${res.status} after ${Date.now() - started} ms: ${text.trim()}`);
    expect(res.status).toBe(500);
    expect(text).toContain('max_output (64 MiB)');
    expect(Date.now() - started).toBeLessThan(20_000);
    const [container] = await containersOfService(spill);
    const left = await waitFor('the spill file to be gone', async () => {
      const { stdout } = await run('docker', ['exec', container!, 'sh', '-c', 'ls -A /tmp; ps -o args']);
      return /watchdog-out-|^yes/m.test(stdout) ? undefined : stdout;
    }, 10_000);
    expect(left).not.toMatch(/watchdog-out-/);
  }, 150_000);

  it('read_timeout (5 s) lets a slow but steady 8 MB upload through, and names a function that does not read its input', async () => {
    await Promise.all([deployWatchdogFunction(slow, 'wc -c'), deployWatchdogFunction(deaf, 'sleep 60', { exec_timeout: '30s' })]);
    // 8 MB in 80 chunks, one every 100 ms: 8 s in all, never a gap near the timeout.
    const chunk = Buffer.alloc(100_000, 'a');
    let started = Date.now();
    const steady = await upload(slow, { 'content-length': String(80 * chunk.length) }, async (req) => {
      for (let i = 0; i < 80; i++) {
        req.write(chunk);
        await new Promise((r) => setTimeout(r, 100));
      }
      req.end();
    });
    console.log(`[security] slow steady 8 MB upload: ${steady.status} after ${Date.now() - started} ms: ${steady.text.trim()}`);
    expect(steady).toEqual({ status: 200, text: `${80 * chunk.length}\n` });
    expect(Date.now() - started).toBeGreaterThan(7500);

    // More than every buffer on the way holds: the watchdog's read_timeout (5 s) ends it, well
    // before exec_timeout (30 s) would.
    const body = Buffer.alloc(64 << 20, 'b');
    started = Date.now();
    const stuck = await upload(deaf, { 'content-length': String(body.length) }, async (req) => {
      req.end(body);
    });
    console.log(`[security] 64 MB to a function that never reads stdin: ${stuck.status} after ${Date.now() - started} ms: ${stuck.text.trim()}`);
    expect(stuck.status).toBe(500);
    expect(stuck.text).toMatch(/the function did not read its input .*read_timeout/);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 240_000);

  it('runs as a non-root user, and exec_timeout leaves neither processes nor zombies in the container', async () => {
    // A process tree: a shell with a background and a foreground child, all past exec_timeout.
    const deployed = await systemFetch('/system/functions', {
      method: 'POST',
      body: JSON.stringify({
        service: tree,
        image: image('watchdog'),
        envProcess: "sh -c 'sleep 301 & sleep 302; echo never'",
        envVars: { exec_timeout: '1s' },
      }),
    });
    expect(deployed.status).toBe(202);
    const statuses = await Promise.all(
      [1, 2, 3].map(() => fetch(gatewayUrl(`/function/${tree}`), { method: 'POST', body: 'x', signal: AbortSignal.timeout(90_000) }).then((r) => r.status)),
    );
    expect(statuses).toEqual([504, 504, 504]);
    const [container] = await containersOfService(tree);
    expect(container).toBeDefined();
    expect((await run('docker', ['exec', container!, 'id', '-u'])).stdout.trim()).not.toBe('0');
    // The killed grandchildren were re-parented to PID 1, which must have reaped them.
    const table = await waitFor('a clean process table', async () => {
      const { stdout } = await run('docker', ['exec', container!, 'ps', '-o', 'pid,stat,args']);
      return /sleep 30[12]|\sZ/.test(stdout) ? undefined : stdout;
    }, 10_000);
    expect(table).toMatch(/watchdog\.mjs/);
    // Classic mode starts its processes through the native spawner, resident beside the watchdog.
    expect(table).toMatch(/\/home\/app\/spawner /);
  }, 150_000);
});
