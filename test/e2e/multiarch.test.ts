// The images for the Raspberry Pi architectures: every image of the stack is
// built for linux/arm64 and linux/arm/v7 from the same Dockerfiles
// (scripts/build-arm-images.sh, under qemu emulation), and they work there:
// the watchdog in classic and HTTP mode, a function reporting the node it
// runs on, and the gateway talking to the real engine. Containers are run
// with `docker run` (the swarm here is amd64) and removed afterwards.
import { spawn } from 'node:child_process';
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

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, text: await res.text() };
}

/** Runs the build script, streaming its output (it makes the bases the first time: a minute or so). */
function buildArmImages(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('scripts/build-arm-images.sh', [], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/build-arm-images.sh exited ${code}`))));
  });
}

/** Runs a command from the repository's root, its output streamed; resolves with what it printed on stdout. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}`))));
  });
}

/** The local node bases per architecture (scripts/make-arm-bases.sh prints NAME=image; idempotent, quick once made). */
let nodeBases: Record<string, string> = {};

beforeAll(async () => {
  await buildArmImages();
  const printed = await run('scripts/make-arm-bases.sh', []);
  nodeBases = { arm64: /^NODE_IMAGE_ARM64=(.+)$/m.exec(printed)![1]!, armv7: /^NODE_IMAGE_ARMV7=(.+)$/m.exec(printed)![1]! };
}, 600_000);

afterAll(async () => {
  for (const name of started) await docker('rm', '-f', name).catch(() => undefined);
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

  it('the node and dockerfile templates build FROM its watchdog, as faas-cli build and the builder build them, and answer', async () => {
    // The build arguments the builder gives every build (deploy_stack.sh's BUILD_ARGS), with this architecture's bases.
    const buildArgs = ['--build-arg', `WATCHDOG_IMAGE=swarmfaas/watchdog:${version}-${tag}`, '--build-arg', `NODE_IMAGE=${nodeBases[tag]}`];
    const node = `swarmfaas-e2e/template-node:${tag}`;
    const dockerfile = `swarmfaas-e2e/template-dockerfile:${tag}`;
    await run('docker', ['build', '-q', '--platform', platform, ...buildArgs, '-t', node, 'template/node']);
    await run('docker', ['build', '-q', '--platform', platform, ...buildArgs, '-t', dockerfile, 'template/dockerfile/function']);
    for (const image of [node, dockerfile]) {
      expect(await docker('image', 'inspect', '-f', '{{.Architecture}}/{{.Variant}}', image), image).toBe(`${architecture}/${variant}`);
    }
    const fromNode = await start(platform, node);
    const fromDockerfile = await start(platform, dockerfile);
    await healthy(fromNode.name);
    await healthy(fromDockerfile.name);
    expect(await docker('exec', fromNode.name, 'id', '-u')).not.toBe('0');
    const greeting = await fetch(fromNode.url, { method: 'POST', body: JSON.stringify({ name: 'Pi' }), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30_000) });
    expect(greeting.status).toBe(200);
    expect(await greeting.json()).toMatchObject({ message: expect.stringMatching(/^Hello from Node\.js v/), method: 'POST', received: { name: 'Pi' } });
    expect(await post(fromDockerfile.url, tag)).toEqual({ status: 200, text: `Hello from a Dockerfile function, you said: ${tag}\n` });
    for (const image of [node, dockerfile]) await docker('image', 'rm', '-f', image).catch(() => undefined);
  }, 600_000);

  it('the gateway starts, reads the real engine and says which architecture it runs on', async () => {
    const gateway = await start(platform, `swarmfaas/gateway:${version}-${tag}`, '-v', '/var/run/docker.sock:/var/run/docker.sock');
    await waitFor('the gateway to answer /healthz', async () => ((await fetch(`${gateway.url}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined), 90_000, 500);
    const info = (await (await fetch(`${gateway.url}/system/info`)).json()) as { arch: string; provider: { orchestration: string } };
    expect(info.arch).toBe(nodeArch);
    expect(info.provider.orchestration).toBe('swarm');
    expect((await fetch(`${gateway.url}/system/functions`)).status).toBe(200);
  });
});
