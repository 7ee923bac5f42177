// The builder's bounds and bad input, against the stack's real builder (one
// build at a time in the e2e stack, test/e2e/setup/stack.ts):
// unsigned and wrongly signed requests, a context over the limit, a build
// over its time, failing builds (syntax error, missing dependency, a step
// that exits 1) through faas-cli, names that are not the caller's, and two
// builds at once while a function is invoked.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildRequestTar } from '../../builder/test/support.js';
import { sign } from '../../builder/src/signature.js';
import { buildObjects, percentile, repoRoot, Workspace } from './support/build.js';
import { invokeLoop, removeFunction } from './support/functions.js';
import { fn, gatewayUrl, image, systemFetch, waitFor } from './support/gateway.js';

const run = promisify(execFile);
const stack = () => inject('stackName');
/** A sleep no other test runs, so its process can be looked for. */
const ENDLESS = 613;

/** The builder program (builder/dist/builder.mjs) on a free port beside the stack's, on the same engine. */
async function startBuilder(env: Record<string, string>): Promise<{ url: string; secret: string; stop(): Promise<void> }> {
  const bundle = `${repoRoot}builder/dist/builder.mjs`;
  if (!existsSync(bundle)) await run(process.execPath, ['build.mjs'], { cwd: `${repoRoot}builder` });
  const dir = mkdtempSync(join(tmpdir(), 'builder-e2e-'));
  chmodSync(dir, 0o1777); // the builder leaves root for uid 1000, as in its image
  const secret = 'a-secret-of-this-test';
  writeFileSync(join(dir, 'payload-secret'), secret);
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn(process.execPath, [bundle], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), STACK_NAME: `${stack()}-side`, PAYLOAD_SECRET_FILE: join(dir, 'payload-secret'), WORK_DIR: dir, LOG_LEVEL: 'warn', BUILD_ARGS: `WATCHDOG_IMAGE=${image('watchdog')}`, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the side builder', async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined), 20_000, 200);
  return {
    url,
    secret,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let ws: Workspace;
const broken = ['broken-syntax', 'broken-dependency', 'broken-step'];

function report(line: string): void {
  process.stderr.write(`[build] ${line}\n`);
}

async function imageExists(name: string): Promise<boolean> {
  return run('docker', ['image', 'inspect', name]).then(() => true, () => false);
}

/** POSTs a build request tar; signed with the stack's payload secret unless told otherwise. */
async function postBuild(body: Buffer, options: { path?: string; secret?: string | null; stream?: boolean } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (options.secret !== null) headers['x-build-signature'] = sign(body, options.secret ?? inject('payloadSecret'));
  if (options.stream) headers.accept = 'application/x-ndjson';
  const res = await fetch(gatewayUrl(options.path ?? '/system/build'), { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, objects: buildObjects(text), text };
}

/** A context of the dockerfile kind: the stack's watchdog with a command. */
const dockerfile = (extra = '') => ({ Dockerfile: `ARG WATCHDOG_IMAGE\nFROM \${WATCHDOG_IMAGE}\n${extra}ENV fprocess="cat"\n` });

beforeAll(async () => {
  ws = new Workspace();
  await ws.login();
  // A copied template/ folder (build.test.ts pulls it from a URL).
  await run('cp', ['-r', `${repoRoot}template`, ws.path('template')]);
});
afterAll(async () => {
  for (const name of broken) await removeFunction(`${stack()}-${name}`);
  await run('docker', ['image', 'rm', `${stack()}-theirs:1`]).catch(() => undefined);
  ws?.dispose();
});

describe('who may build', () => {
  it('refuses an unsigned request (401) and a wrongly signed one (401), building nothing', async () => {
    const target = `${stack()}-unsigned:1`;
    const body = await buildRequestTar({ image: target }, dockerfile());
    const unsigned = await postBuild(body, { path: '/build', secret: null });
    expect(unsigned.status).toBe(401);
    expect(unsigned.objects[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/X-Build-Signature is missing/) });
    // Through /system/build with neither signature nor credentials, the gateway's own auth answers.
    expect((await postBuild(body, { secret: null })).status).toBe(401);
    const wrong = await postBuild(body, { secret: 'not-the-payload-secret' });
    expect(wrong.status).toBe(401);
    expect(wrong.objects[0]!.error).toMatch(/does not match the body/);
    // The signature covers every byte: one byte changed after signing is refused too.
    const signature = sign(body, inject('payloadSecret'));
    const tampered = Buffer.from(body);
    tampered[600] = tampered[600]! ^ 1;
    const res = await fetch(gatewayUrl('/build'), { method: 'POST', body: tampered, headers: { 'x-build-signature': signature } });
    expect(res.status).toBe(401);
    expect(await imageExists(target)).toBe(false);
  });

  it('refuses a context over the limit with 413 before it is read whole', async () => {
    const declared = 200 * 1024 * 1024; // the stack's limit is 100 MB
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(gatewayUrl('/build'), { method: 'POST', headers: { 'content-length': declared, 'x-build-signature': `sha256=${'0'.repeat(64)}` } }, (res) => {
        res.resume();
        req.destroy();
        resolve(res.statusCode!);
      });
      req.on('error', reject); // before the answer: the gateway reset the connection before it could be read
      const chunk = Buffer.alloc(1024 * 1024);
      const pump = () => {
        while (sent < declared && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    report(`413 for a declared 200 MB after ${Math.round(sent / 1024 / 1024)} MB were sent`);
    expect(status).toBe(413);
    expect(sent).toBeLessThan(declared / 2);
  });
});

describe('failing builds', () => {
  it('answers failed with the log lines that say why, and faas-cli deploys nothing', async () => {
    const cases: { name: string; lang: string; edit: () => void; why: RegExp }[] = [
      { name: 'broken-syntax', lang: 'node', edit: () => ws.write(`${stack()}-broken-syntax/handler.js`, 'export default async function (req) {\n  return { body: ;\n}\n'), why: /SyntaxError: Unexpected token/ },
      {
        name: 'broken-dependency',
        lang: 'node',
        edit: () => ws.write(`${stack()}-broken-dependency/handler.js`, "import pad from 'left-pad';\nexport default async (req) => pad(req.body, 10);\n"),
        why: /Cannot find package 'left-pad'/,
      },
      { name: 'broken-step', lang: 'dockerfile', edit: () => ws.write(`${stack()}-broken-step/Dockerfile`, 'ARG WATCHDOG_IMAGE\nFROM ${WATCHDOG_IMAGE}\nRUN echo checking the widgets && exit 1\n'), why: /exit code: 1/ },
    ];
    for (const { name, lang, edit, why } of cases) {
      const fnName = `${stack()}-${name}`;
      const made = await ws.cli(['new', '--lang', lang, fnName, ...(name === 'broken-syntax' ? [] : ['--append', 'stack.yaml'])]);
      expect(made.code, made.out).toBe(0);
      edit();
      const up = await ws.up(['--filter', fnName]);
      report(`${name}: faas-cli up exited ${up.code}: ${up.out.match(/failure while building[^\n]*/)?.[0]?.slice(0, 160)}`);
      expect(up.code, up.out.slice(-2000)).not.toBe(0);
      expect(up.out).toMatch(why);
      expect(up.out).toContain(`${fnName} failure while building or pushing image`);
      expect(up.out).not.toMatch(/Deployed\./);
      expect((await systemFetch(`/system/function/${fnName}`)).status).toBe(404);
    }
    expect(ws.read('template', 'node', 'Dockerfile')).toContain('--check');
  });

  it('stops a build over its time limit (the engine stops it too) and reports it', async () => {
    // The stack's builder has a limit of 10 minutes: this runs the same builder program beside it with
    // one of 15 s, against the same engine, rather than hold the suite for minutes.
    const builder = await startBuilder({ BUILD_TIMEOUT: '15s' });
    try {
      const target = `${stack()}-endless:1`;
      const body = await buildRequestTar({ image: target }, dockerfile(`RUN echo started && sleep ${ENDLESS}\n`));
      const started = Date.now();
      const res = await fetch(`${builder.url}/build`, { method: 'POST', body, headers: { 'x-build-signature': sign(body, builder.secret), accept: 'application/x-ndjson' } });
      const objects = buildObjects(await res.text());
      const seconds = (Date.now() - started) / 1000;
      report(`a build with RUN sleep ${ENDLESS} answered ${objects.at(-1)?.status} after ${seconds.toFixed(1)} s (BUILD_TIMEOUT 15 s)`);
      expect(objects.at(-1)).toMatchObject({ status: 'failed', error: 'the build took longer than BUILD_TIMEOUT (15 s) and was stopped' });
      expect(objects.flatMap((o) => o.log).some((line) => /started$/.test(line)), 'the endless step had started').toBe(true);
      expect(seconds).toBeLessThan(45);
      expect(await imageExists(target)).toBe(false);
      // The step's process is gone too: the engine cancelled the build when the builder hung up.
      await waitFor('the endless step to be stopped', async () => ((await run('pgrep', ['-f', `sleep ${ENDLESS}`]).then(() => 'running', () => 'gone')) === 'gone' ? true : undefined), 30_000, 500);
    } finally {
      await builder.stop();
    }
  });
});

describe('image names', () => {
  it("refuses the stack's own images and another stack's, saying why", async () => {
    await run('sh', ['-c', `printf 'FROM ${image('watchdog')}\\nLABEL com.swarmfaas.builder.stack=someone-else\\n' | DOCKER_BUILDKIT=0 docker build -q -t ${stack()}-theirs:1 - 2>/dev/null`]);
    const cases: [string, RegExp][] = [
      [image('watchdog'), /one of the stack's own images/],
      [image('gateway'), /one of the stack's own images/],
      [`${image('echoit').split(':')[0]}:anything`, /one of the stack's own images|the image of this stack's own service/],
      [`${stack()}-theirs:1`, /made by the builder of the stack someone-else/],
    ];
    for (const [name, why] of cases) {
      const answer = await postBuild(await buildRequestTar({ image: name }, dockerfile()));
      expect(answer.status, name).toBe(403);
      expect(answer.objects[0]!.error).toMatch(why);
    }
    const invalid = await postBuild(await buildRequestTar({ image: 'Not A Name' }, dockerfile()));
    expect(invalid.status).toBe(400);
  });
});

describe('two builds at once', () => {
  it('builds one while the other waits and says so, and fails no call to a function meanwhile', async () => {
    const baseline = await invokeLoop(fn('echoit'), { workers: 1, pauseMs: 20, maxRequests: 150, maxMs: 5_000 });
    const names = [`${stack()}-twin-a:1`, `${stack()}-twin-b:1`];
    let building = true;
    const during = invokeLoop(fn('echoit'), { workers: 1, pauseMs: 20, maxRequests: 5_000, maxMs: 120_000, stop: () => !building });
    // Each build does some work of its own (nocache is not an option of the API: a fresh RUN line each time).
    const stamp = Date.now();
    const [a, b] = await Promise.all(names.map(async (name, i) => postBuild(await buildRequestTar({ image: name }, dockerfile(`RUN echo ${stamp}-${i} && i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done\n`)), { stream: true })));
    building = false;
    const calls = await during;
    for (const answer of [a!, b!]) expect(answer.objects.at(-1)!.status, answer.text.slice(-500)).toBe('success');
    const logs = [a!, b!].map((answer) => answer.objects.flatMap((o) => o.log));
    expect(logs.filter((log) => log.some((line) => /^waiting for a build slot: 1 build ahead of this one/.test(line)))).toHaveLength(1);
    const failed = calls.filter((c) => c.status !== 200);
    const ms = (list: typeof calls) => list.map((c) => c.ms);
    report(
      `function calls during two builds: ${calls.length}, ${failed.length} failed; p50 ${percentile(ms(calls), 50)} ms, p99 ${percentile(ms(calls), 99)} ms, max ${Math.max(...ms(calls))} ms ` +
        `(before: p50 ${percentile(ms(baseline), 50)} ms, p99 ${percentile(ms(baseline), 99)} ms, max ${Math.max(...ms(baseline))} ms)`,
    );
    // (How much the builds add to the calls' latency is measured by bench/build.mjs, on a quiet machine.)
    expect(failed).toEqual([]);
    for (const name of names) await run('docker', ['image', 'rm', name]).catch(() => undefined);
  });
});
