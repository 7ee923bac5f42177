// The images for the Raspberry Pi architectures: every image of the stack is
// built for linux/arm64 and linux/arm/v7 from the same Dockerfiles
// (scripts/build-arm-images.sh, under qemu emulation), and they work there:
// the watchdog in classic and HTTP mode, a function reporting the node it
// runs on, every function template (template/) built with its arm bases and
// answering, and the gateway talking to the real engine. Containers are run
// with `docker run` (the swarm here is amd64) and removed afterwards, as are
// the template images.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker } from './support/docker.js';
import { version, waitFor } from './support/gateway.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES = ['watchdog', 'gateway', 'echoit', 'wordcount', 'base64', 'decodebase64', 'markdown', 'nodeinfo', 'hubstats', 'webhookstash'];

const PLATFORMS = [
  { tag: 'arm64', platform: 'linux/arm64', architecture: 'arm64', variant: 'v8', nodeArch: 'arm64' },
  { tag: 'armv7', platform: 'linux/arm/v7', architecture: 'arm', variant: 'v7', nodeArch: 'arm' },
] as const;

const started: string[] = [];
const built: string[] = [];
/** Images a build left untagged (a dependency stage), removed after the tagged ones. */
const intermediates: string[] = [];

/** Starts a container of `image` for `platform` on a free 127.0.0.1 port; returns its name and URL. */
async function start(platform: string, image: string, ...extra: string[]): Promise<{ name: string; url: string }> {
  const name = `multiarch-${image.replace(/[^a-z0-9]+/g, '-')}-${Date.now()}`;
  await docker('run', '-d', '--name', name, '--platform', platform, '-p', '127.0.0.1::8080', ...extra, image);
  started.push(name);
  const port = (await docker('port', name, '8080')).split('\n')[0]!.split(':').pop();
  return { name, url: `http://127.0.0.1:${port}` };
}

async function healthy(name: string): Promise<void> {
  await waitFor(`${name} to be healthy`, async () => ((await docker('inspect', '-f', '{{.State.Health.Status}}', name)) === 'healthy' ? true : undefined), 90_000, 500);
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, text: await res.text() };
}

/** The first 200 answer of a function just started (ready from its first request: no health check to wait for). */
async function firstAnswer(url: string, body: string, headers: Record<string, string> = {}): Promise<string> {
  return waitFor(`${url} to answer 200`, async () => {
    const answer = await post(url, body, headers).catch(() => undefined);
    return answer?.status === 200 ? answer.text : undefined;
  }, 120_000, 250);
}

/** Runs the build script, streaming its output (it makes the bases the first time: a minute or so). */
function buildArmImages(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('scripts/build-arm-images.sh', [], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/build-arm-images.sh exited ${code}`))));
  });
}

/** Runs a command (from the repository's root unless told), its output streamed; resolves with what it printed on stdout. */
function run(command: string, args: string[], cwd = repoRoot): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`))));
  });
}

/**
 * The local arm bases (scripts/make-arm-bases.sh prints NAME=image: NODE_IMAGE_ARM64,
 * PYTHON_IMAGE_ARMV7, ...; idempotent, quick once made).
 */
let bases: Record<string, string> = {};
/** The node template as a user leaves it after `npm install ms`: a handler using the package, its lockfile. */
let nodeFunction = '';

beforeAll(async () => {
  await buildArmImages();
  const printed = await run('scripts/make-arm-bases.sh', []);
  bases = Object.fromEntries([...printed.matchAll(/^([A-Z0-9_]+)=(.+)$/gm)].map((m) => [m[1]!, m[2]!]));
  nodeFunction = mkdtempSync(join(tmpdir(), 'multiarch-node-'));
  cpSync(join(repoRoot, 'template/node'), nodeFunction, { recursive: true });
  // The lockfile is made on the host; the build's npm ci installs from it for the architecture.
  await run('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', 'ms@2.0.0'], join(nodeFunction, 'function'));
  writeFileSync(
    join(nodeFunction, 'function/handler.js'),
    `import ms from 'ms';\nexport default async (req) => ({ body: { arch: process.arch, duration: req.body.duration, ms: ms(req.body.duration) } });\n`,
  );
}, 600_000);

afterAll(async () => {
  for (const name of started) await docker('rm', '-f', name).catch(() => undefined);
  for (const image of built) await docker('image', 'rm', '-f', image).catch(() => undefined);
  for (const id of intermediates) await docker('image', 'rm', id).catch(() => undefined);
  if (nodeFunction) rmSync(nodeFunction, { recursive: true, force: true });
});

describe.each(PLATFORMS)('images for $platform', ({ tag, platform, architecture, variant, nodeArch }) => {
  it('every image of the stack is built for it', async () => {
    for (const image of IMAGES) {
      const inspected = await docker('image', 'inspect', '-f', '{{.Architecture}}/{{.Variant}}', `swarmfaas/${image}:${version}-${tag}`);
      expect(inspected, image).toBe(`${architecture}/${variant}`);
    }
  });

  it('classic mode: echoit becomes healthy, runs as a non-root user and echoes the body', async () => {
    const { name, url } = await start(platform, `swarmfaas/echoit:${version}-${tag}`);
    await healthy(name);
    expect(await docker('exec', name, 'id', '-u')).not.toBe('0');
    expect(await docker('exec', name, 'uname', '-m')).toMatch(tag === 'arm64' ? /aarch64/ : /armv7|armv8l/);
    expect(await post(url, `hello from ${tag}`)).toEqual({ status: 200, text: `hello from ${tag}` });
    // The spawner built for this architecture starts the processes (not Node's fallback).
    expect(await docker('logs', name)).toContain('processes started by the spawner');
  });

  it('HTTP mode: markdown renders through the watchdog, and nodeinfo reports the architecture', async () => {
    const markdown = await start(platform, `swarmfaas/markdown:${version}-${tag}`);
    const nodeinfo = await start(platform, `swarmfaas/nodeinfo:${version}-${tag}`);
    await healthy(markdown.name);
    await healthy(nodeinfo.name);
    const rendered = await post(markdown.url, '# hi');
    expect(rendered.status).toBe(200);
    expect(rendered.text).toContain('<h1>hi</h1>');
    const info = await post(nodeinfo.url, '');
    expect(info.status).toBe(200);
    expect(info.text).toContain(`Arch: ${nodeArch}`);
  });

  it('every template builds FROM its watchdog with its bases (node installing a dependency with npm ci), and answers', async () => {
    const TAG = tag.toUpperCase();
    // The build arguments the builder gives every build (deploy_stack.sh's BUILD_ARGS), with this architecture's bases.
    const buildArgs = Object.entries({
      WATCHDOG_IMAGE: `swarmfaas/watchdog:${version}-${tag}`,
      NODE_IMAGE: bases[`NODE_NPM_IMAGE_${TAG}`],
      PYTHON_IMAGE: bases[`PYTHON_IMAGE_${TAG}`],
      BASH_IMAGE: bases[`BASH_IMAGE_${TAG}`],
    }).flatMap(([name, value]) => ['--build-arg', `${name}=${value!}`]);
    // The contexts faas-cli build makes: the template's folder with the handler in function/ (the
    // samples here; node's with its dependency), and a dockerfile function's own folder.
    const contexts = { node: nodeFunction, python3: 'template/python3', bash: 'template/bash', dockerfile: 'template/dockerfile/function' };
    const images = Object.fromEntries(Object.keys(contexts).map((lang) => [lang, `swarmfaas-e2e/multiarch-template-${lang}:${tag}`])) as Record<keyof typeof contexts, string>;
    const buildStarted = Date.now();
    const [nodeBuild] = await Promise.all(
      Object.entries(contexts).map(async ([lang, context]) => {
        built.push(images[lang as keyof typeof contexts]);
        // node without the layer cache, so that npm ci runs under emulation on every run.
        const options = lang === 'node' ? ['--no-cache'] : ['-q'];
        return run('docker', ['build', ...options, '--platform', platform, ...buildArgs, '-t', images[lang as keyof typeof contexts], context]);
      }),
    );
    const buildSeconds = (Date.now() - buildStarted) / 1000;
    expect(nodeBuild).toMatch(/npm ci --omit=dev[\s\S]*added 1 package/);
    // The dependency stage's image (the last one before the function's FROM) is left untagged.
    const dependencyStage = /---> ([0-9a-f]{12})\s+Step \d+\/\d+ : FROM \$\{WATCHDOG_IMAGE\}/.exec(nodeBuild!)?.[1];
    if (dependencyStage) intermediates.push(dependencyStage);
    for (const image of Object.values(images)) {
      expect(await docker('image', 'inspect', '-f', '{{.Architecture}}/{{.Variant}}', image), image).toBe(`${architecture}/${variant}`);
    }

    // Each runs as the stack runs functions: a read-only root with a tmpfs /tmp.
    const answerStarted = Date.now();
    const [node, python3, bash, dockerfile] = await Promise.all(
      [images.node, images.python3, images.bash, images.dockerfile].map((image) => start(platform, image, '--read-only', '--tmpfs', '/tmp')),
    );
    const json = { 'content-type': 'application/json' };
    const [fromNode, fromPython, fromBash, fromDockerfile] = await Promise.all([
      firstAnswer(node!.url, JSON.stringify({ duration: '2h' }), json),
      firstAnswer(python3!.url, JSON.stringify({ name: 'Pi' }), json),
      firstAnswer(bash!.url, `hello from ${tag}`),
      firstAnswer(dockerfile!.url, tag),
    ]);
    const answerSeconds = (Date.now() - answerStarted) / 1000;
    process.stderr.write(`[multiarch] ${platform}: 4 templates built in ${buildSeconds.toFixed(1)} s (in parallel), all answering ${answerSeconds.toFixed(1)} s after docker run\n`);

    expect(JSON.parse(fromNode)).toEqual({ arch: nodeArch, duration: '2h', ms: 7_200_000 });
    expect(JSON.parse(fromPython)).toMatchObject({ message: expect.stringMatching(/^Hello from Python 3\.11\.\d+$/), method: 'POST', received: { name: 'Pi' } });
    expect(fromBash).toMatch(new RegExp(`^Hello from bash 5\\.2[\\d.]*: POST with ${`hello from ${tag}`.length} bytes: hello from ${tag}\n$`));
    expect(fromDockerfile).toBe(`Hello from a Dockerfile function, you said: ${tag}\n`);
    for (const container of [node!, python3!, bash!, dockerfile!]) {
      expect(await docker('exec', container.name, 'uname', '-m'), container.name).toMatch(tag === 'arm64' ? /aarch64/ : /armv7|armv8l/);
      expect(await docker('exec', container.name, 'id', '-u'), container.name).not.toBe('0');
    }
  }, 900_000);

  it('the gateway starts, reads the real engine and says which architecture it runs on', async () => {
    const gateway = await start(platform, `swarmfaas/gateway:${version}-${tag}`, '-v', '/var/run/docker.sock:/var/run/docker.sock');
    await waitFor('the gateway to answer /healthz', async () => ((await fetch(`${gateway.url}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined), 90_000, 500);
    const info = (await (await fetch(`${gateway.url}/system/info`)).json()) as { arch: string; provider: { orchestration: string } };
    expect(info.arch).toBe(nodeArch);
    expect(info.provider.orchestration).toBe('swarm');
    expect((await fetch(`${gateway.url}/system/functions`)).status).toBe(200);
  });
});
