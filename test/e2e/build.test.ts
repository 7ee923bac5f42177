// From code to a running function with the real faas-cli (FAAS_CLI): the
// templates pulled from this repository's URL, `faas-cli new --lang X` and
// `faas-cli up --remote-builder <gateway>/system/build --payload-secret` for
// every template, an invocation of each, a dependency installed from the
// lockfile, and a handler-only change rolled out while calls run.
// The bad inputs are in build-refusals.test.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { serveTemplates, Workspace } from './support/build.js';
import { invoke, invokeLoop, removeFunction } from './support/functions.js';
import { systemFetch, waitFor } from './support/gateway.js';

const run = promisify(execFile);
const stack = () => inject('stackName');
const LANGS = ['node', 'python3', 'bash', 'dockerfile'] as const;
type Lang = (typeof LANGS)[number];
/** What each template's starting handler answers. */
const GREETING: Record<Lang, RegExp> = {
  node: /"message":"Hello from Node\.js v24\.[\d.]+","method":"POST","received":"hello builder"/,
  python3: /"message": "Hello from Python 3\.[\d.]+", "method": "POST", "received": "hello builder"/,
  bash: /^Hello from bash 5\.[\d.]+: POST with 13 bytes: hello builder$/m,
  dockerfile: /^Hello from a Dockerfile function, you said: hello builder$/m,
};
const nameOf = (lang: Lang | string) => `${stack()}-${lang}`;

let ws: Workspace;
let templates: Awaited<ReturnType<typeof serveTemplates>> | undefined;

function report(line: string): void {
  process.stderr.write(`[build] ${line}\n`);
}

/** Waits until the function answers what `match` wants, and answers that text. */
async function answers(name: string, match: RegExp, timeoutMs = 90_000): Promise<string> {
  return waitFor(`${name} answering ${match}`, async () => {
    const answer = await invoke(name, 'hello builder');
    return answer.status === 200 && match.test(answer.text) ? answer.text : undefined;
  }, timeoutMs, 500);
}

beforeAll(async () => {
  ws = new Workspace();
  await ws.login();
  templates = await serveTemplates();
});
afterAll(async () => {
  for (const name of [...LANGS, 'deps'].map(nameOf)) await removeFunction(name);
  ws?.dispose();
  await templates?.close();
});

describe('faas-cli new + up --remote-builder', () => {
  it("pulls the templates from this repository's URL", async () => {
    const pulled = await ws.cli(['template', 'pull', templates!.url]);
    expect(pulled.code, pulled.out).toBe(0);
    for (const lang of LANGS) expect(existsSync(ws.path('template', lang, 'template.yml')), lang).toBe(true);
    for (const lang of LANGS) {
      const made = await ws.cli(['new', '--lang', lang, nameOf(lang), ...(lang === 'node' ? [] : ['--append', 'stack.yaml'])]);
      expect(made.code, made.out).toBe(0);
    }
    expect(ws.read('stack.yaml')).toContain(`image: ${nameOf('python3')}:latest`);
  });

  it('builds every template through the gateway, deploys each, and each answers', async () => {
    const started = Date.now();
    const up = await ws.up();
    report(`faas-cli up of ${LANGS.length} functions: exit ${up.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(up.code, up.out.slice(-3000)).toBe(0);
    for (const lang of LANGS) {
      expect(up.out).toContain(`${nameOf(lang)} success building and pushing image: ${nameOf(lang)}:latest`);
      const text = await answers(nameOf(lang), GREETING[lang]);
      report(`${lang}: ${text.trim().slice(0, 100)}`);
      const done = new RegExp(`Building ${nameOf(lang)} done in ([\\d.]+)s`).exec(up.out);
      if (done) report(`${lang}: built in ${done[1]} s (faas-cli's count, first build on this stack)`);
    }
    // Each runs as the API confines functions: read-only root, uid 10001.
    const status = (await (await systemFetch(`/system/function/${nameOf('python3')}`)).json()) as { readOnlyRootFilesystem?: boolean };
    expect(status.readOnlyRootFilesystem).toBe(true);
  });

  it('installs a node function\'s dependencies at build time with its lockfile honoured', async () => {
    const name = nameOf('deps');
    const made = await ws.cli(['new', '--lang', 'node', name, '--append', 'stack.yaml']);
    expect(made.code, made.out).toBe(0);
    // ms 2.0.0 in the lockfile, ^2.0.0 (which 2.1.x satisfies) in package.json: the lockfile wins.
    await run('npm', ['install', '--save', '--no-audit', '--no-fund', 'ms@2.0.0'], { cwd: ws.path(name) });
    const manifest = JSON.parse(ws.read(name, 'package.json')) as { dependencies: Record<string, string> };
    manifest.dependencies.ms = '^2.0.0';
    writeFileSync(ws.path(name, 'package.json'), JSON.stringify(manifest, null, 2));
    ws.write(
      `${name}/handler.js`,
      `import ms from 'ms';\nimport { createRequire } from 'node:module';\nconst version = createRequire(import.meta.url)('ms/package.json').version;\nexport default async () => ({ body: { version, minute: ms('1m') } });\n`,
    );
    const up = await ws.up(['--filter', name]);
    expect(up.code, up.out.slice(-3000)).toBe(0);
    expect(up.out).toMatch(/npm ci|added 1 package/);
    await answers(name, /^\{"version":"2\.0\.0","minute":60000\}$/);
  });

  it('rolls out a handler-only change without a failed call', async () => {
    const name = nameOf('node');
    ws.write(`${name}/handler.js`, `export default async () => 'version two';\n`);
    let sawNew = 0;
    const calls = invokeLoop(name, { workers: 2, pauseMs: 20, maxRequests: 20_000, maxMs: 150_000, stop: () => sawNew > 0 && Date.now() - sawNew > 3000 });
    const watcher = (async () => {
      await answers(name, /^version two$/, 150_000);
      sawNew = Date.now();
    })();
    const started = Date.now();
    const up = await ws.up(['--filter', name]);
    expect(up.code, up.out.slice(-3000)).toBe(0);
    await watcher;
    const seconds = ((sawNew - started) / 1000).toFixed(1);
    const answered = await calls;
    const failed = answered.filter((a) => a.status !== 200);
    report(`handler-only change of node: submit to the new answer ${seconds} s; ${answered.length} calls meanwhile, ${failed.length} failed`);
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([]);
    expect(answered.some((a) => a.text === 'version two')).toBe(true);
    // The layers before the handler came from the cache.
    expect(up.out).toMatch(/CACHED/);
  });

  it("builds with plain curl: the tar made with tar, signed with openssl, POSTed (the README's recipe)", async () => {
    const dir = ws.path('curl-build');
    const image = `${stack()}-curl:1`;
    const script = `
      set -e
      mkdir -p ${dir}/context && cd ${dir}
      printf 'ARG WATCHDOG_IMAGE\\nFROM $WATCHDOG_IMAGE\\nENV fprocess="wc -c"\\n' > context/Dockerfile
      printf '{"image": "${image}"}' > com.openfaas.docker.config
      tar -cf req.tar com.openfaas.docker.config context
      HMAC=$(openssl dgst -sha256 -hmac "$(cat ${ws.payloadFile})" req.tar | sed -e 's/^.* //')
      curl -sS -H "X-Build-Signature: sha256=$HMAC" -H 'Accept: application/x-ndjson' --data-binary @req.tar ${inject('gatewayUrl')}/system/build
    `;
    const { stdout } = await run('sh', ['-c', script], { timeout: 120_000 });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; image: string; log: string[] });
    expect(lines.at(-1)).toMatchObject({ status: 'success', image: image });
    expect(lines.slice(0, -1).every((l) => l.status === 'in_progress')).toBe(true);
    const labels = JSON.parse((await run('docker', ['image', 'inspect', image, '--format', '{{json .Config.Labels}}'])).stdout) as Record<string, string>;
    expect(labels['com.swarmfaas.builder.stack']).toBe(stack());
    expect(readFileSync(ws.payloadFile, 'utf8').trim()).toBe(inject('payloadSecret'));
  });
});
