// Functions written in the browser: the tar the gateway packs for the builder
// (read back by the system's tar and by tar-stream, as the builder reads it),
// the build context made from a real template, the kept source, and
// POST /system/source against a stand-in builder: progress relayed, a failed
// build deploys nothing, a good one deploys then rolls onto the next image.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { packTar } from '../../src/programs/gateway/source/tar.js';
import { contextOf, readTemplates } from '../../src/programs/gateway/source/templates.js';
import { memorySources } from '../../src/queue/kept-sources.js';
import { sourceImage } from '../../src/programs/gateway/source/request.js';
import { closedAfterEach, startGateway, startUpstream, type TestGateway } from './support/test-gateway.js';

const TEMPLATES = resolve(import.meta.dirname, '../../../template');

async function readBack(tar: Buffer): Promise<Map<string, { text: string; mode: number }>> {
  const out = new Map<string, { text: string; mode: number }>();
  const extract = tarStream.extract();
  const done = new Promise<void>((ok, fail) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        out.set(header.name, { text: Buffer.concat(chunks).toString('utf8'), mode: header.mode ?? 0 });
        next();
      });
    });
    extract.on('finish', ok);
    extract.on('error', fail);
  });
  extract.end(tar);
  await done;
  return out;
}

describe('packTar', () => {
  it('writes a tar the system tar and tar-stream read back: names, contents, modes, long paths, UTF-8', async () => {
    const long = `context/${'deep/'.repeat(30)}file.txt`;
    const tar = packTar([
      { path: 'com.openfaas.docker.config', content: '{"image":"a:b"}' },
      { path: 'context/function/handler.js', content: 'export default () => "héllo";\n' },
      { path: 'context/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
      { path: long, content: Buffer.alloc(1500, 65) },
    ]);
    expect(tar.length % 512).toBe(0);
    const entries = await readBack(tar);
    expect([...entries.keys()]).toEqual(['com.openfaas.docker.config', 'context/function/handler.js', 'context/run.sh', long]);
    expect(entries.get('context/function/handler.js')!.text).toBe('export default () => "héllo";\n');
    expect(entries.get('context/run.sh')!.mode).toBe(0o755);
    expect(entries.get(long)!.text).toBe('A'.repeat(1500));
    const dir = mkdtempSync(join(tmpdir(), 'packtar-'));
    try {
      writeFileSync(join(dir, 'a.tar'), tar);
      expect(execFileSync('tar', ['-tf', join(dir, 'a.tar')], { encoding: 'utf8' }).trim().split('\n')).toContain('context/function/handler.js');
      expect(execFileSync('tar', ['-xOf', join(dir, 'a.tar'), 'com.openfaas.docker.config'], { encoding: 'utf8' })).toBe('{"image":"a:b"}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses paths that would leave the archive', () => {
    expect(() => packTar([{ path: '../x', content: '' }])).toThrow(/relative path/);
    expect(() => packTar([{ path: '/etc/passwd', content: '' }])).toThrow(/relative path/);
  });
});

describe('templates and build contexts', () => {
  it('reads the four templates with the files a function starts from', async () => {
    const templates = await readTemplates(TEMPLATES);
    expect([...templates.keys()].sort()).toEqual(['bash', 'dockerfile', 'node', 'python3']);
    expect(Object.keys(templates.get('node')!.files).sort()).toEqual(['handler.js', 'package.json']);
    expect(Object.keys(templates.get('python3')!.files).sort()).toEqual(['handler.py', 'requirements.txt']);
    expect(templates.get('python3')!.fprocess).toBe('python3 /home/app/index.py');
    // The node and python3 samples serve their OpenAPI document.
    expect(templates.get('node')!.openapi).toBe('/openapi.json');
    expect(templates.get('python3')!.openapi).toBe('/openapi.json');
    expect(templates.get('bash')!.openapi).toBeUndefined();
  });

  it("puts the user's files in function/, keeping the lockfile only while package.json is the template's", async () => {
    const node = (await readTemplates(TEMPLATES)).get('node')!;
    const same = contextOf(node, { ...node.files, 'handler.js': 'export default () => 1;' });
    const paths = same.map((e) => e.path);
    expect(paths).toContain('context/Dockerfile');
    expect(paths).toContain('context/function/package-lock.json');
    expect(same.find((e) => e.path === 'context/function/handler.js')!.content).toBe('export default () => 1;');
    const changed = contextOf(node, { ...node.files, 'package.json': '{"name":"function","type":"module","dependencies":{"qrcode":"^1.5.4"}}' });
    expect(changed.map((e) => e.path)).not.toContain('context/function/package-lock.json');
  });

  it('makes the dockerfile template\'s handler folder the whole context', async () => {
    const docker = (await readTemplates(TEMPLATES)).get('dockerfile')!;
    expect(contextOf(docker, docker.files).map((e) => e.path).sort()).toEqual(['context/Dockerfile', 'context/handler.sh']);
  });

  it('names images per function and build', () => {
    expect(sourceImage('', 'edtest-src', 'hello', 'openfaas-fn', 'openfaas-fn', 1_000)).toBe('edtest-src-hello:brs');
    expect(sourceImage('127.0.0.1:5000/', 'func-src', 'hello', 'team', 'openfaas-fn', 1_000)).toBe('127.0.0.1:5000/func-src-hello.team:brs');
  });
});

describe('the kept source (memory)', () => {
  it('keeps one source per function and namespace', async () => {
    const store = memorySources();
    const source = { service: 'a', namespace: 'openfaas-fn', template: 'node', files: { 'handler.js': 'x' }, image: 'i:1', updatedAt: 'now' };
    await store.put(source);
    expect(await store.get('a', 'openfaas-fn')).toEqual(source);
    expect(await store.get('a', 'other')).toBeUndefined();
    await store.delete('a', 'openfaas-fn');
    expect(await store.get('a', 'openfaas-fn')).toBeUndefined();
  });
});

describe('POST /system/source', () => {
  const closing = closedAfterEach();
  let gateway: TestGateway | undefined;

  async function start(outcome: () => 'success' | 'failed') {
    const seen: { tar: Buffer; headers: Record<string, unknown> }[] = [];
    const builder = closing(await startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ tar: Buffer.concat(chunks), headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('{"log":["#1 building"],"status":"in_progress"}\n');
        const status = outcome();
        setTimeout(() => res.end(status === 'success' ? '{"log":["done"],"status":"success","image":"x"}\n' : '{"log":["/home/app/function/handler.js:2","SyntaxError: Unexpected token"],"status":"failed","error":"step 5 failed"}\n'), 50);
      });
    }));
    gateway = closing(await startGateway({ env: { BUILDER_URL: `http://${builder.address}`, TEMPLATE_DIR: TEMPLATES, SOURCE_IMAGE_NAME: 'edtest-src' } }));
    return seen;
  }

  const post = (body: unknown) => fetch(`${gateway!.url}/system/source`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const lines = async (res: Response) => (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const body = { service: 'hello', template: 'node', files: { 'handler.js': 'export default async () => "hi";\n', 'package.json': readFileSync(join(TEMPLATES, 'node/function/package.json'), 'utf8') }, labels: { 'com.openfaas.scale.min': '1' } };

  it('builds, deploys, keeps the source, then rolls the function onto a new image', async () => {
    const seen = await start(() => 'success');
    const first = await lines(await post(body));
    expect(first[0]).toMatchObject({ status: 'in_progress', log: ['#1 building'] });
    expect(first.at(-1)).toMatchObject({ status: 'deployed', service: 'hello', updated: false });
    const entries = await readBack(seen[0]!.tar);
    expect(seen[0]!.headers['x-gateway-authenticated']).toBe('open');
    expect(JSON.parse(entries.get('com.openfaas.docker.config')!.text)).toMatchObject({ image: expect.stringMatching(/^edtest-src-hello:b/) });
    expect(entries.get('context/function/handler.js')!.text).toBe(body.files['handler.js']);
    const deployed = [...gateway!.provider.functions.values()].find((f) => f.name === 'hello');
    expect(deployed?.image).toBe(first.at(-1)!.image);
    const kept = await (await fetch(`${gateway!.url}/system/source/hello`)).json();
    expect(kept).toMatchObject({ service: 'hello', template: 'node', files: body.files });

    await new Promise((r) => setTimeout(r, 5)); // a new build time, a new image
    const second = await lines(await post({ ...body, files: { ...body.files, 'handler.js': 'export default async () => "v2";\n' } }));
    expect(second.at(-1)).toMatchObject({ status: 'deployed', updated: true });
    expect(second.at(-1)!.image).not.toBe(first.at(-1)!.image);
    expect([...gateway!.provider.functions.values()].find((f) => f.name === 'hello')?.image).toBe(second.at(-1)!.image);

    // Deleting the function forgets its source: a new function of that name starts from its template.
    const removed = await fetch(`${gateway!.url}/system/functions`, { method: 'DELETE', body: JSON.stringify({ functionName: 'hello' }), headers: { 'content-type': 'application/json' } });
    expect(removed.status).toBe(202);
    expect((await fetch(`${gateway!.url}/system/source/hello`)).status).toBe(404);
  });

  it('deploys nothing when the build fails, and says why with its log', async () => {
    await start(() => 'failed');
    const out = await lines(await post(body));
    expect(out.at(-1)).toMatchObject({ status: 'failed', error: 'step 5 failed' });
    expect(out.at(-1)!.log).toContain('SyntaxError: Unexpected token');
    expect([...gateway!.provider.functions.values()]).toHaveLength(0);
    expect((await fetch(`${gateway!.url}/system/source/hello`)).status).toBe(404);
  });

  it('refuses a wrong template, file name or function name before building anything', async () => {
    const seen = await start(() => 'success');
    expect((await post({ ...body, template: 'cobol' })).status).toBe(400);
    expect((await post({ ...body, files: { '../x': 'y' } })).status).toBe(400);
    const badName = await post({ ...body, service: 'Not A Name' });
    expect(badName.status).toBe(400);
    expect(await badName.text()).toMatch(/service/);
    expect(seen).toHaveLength(0);
  });

  it('lists the templates with their starting files', async () => {
    await start(() => 'success');
    const answer = (await (await fetch(`${gateway!.url}/system/templates`)).json()) as { builder: boolean; templates: { language: string; files: Record<string, string> }[] };
    expect(answer.builder).toBe(true);
    expect(answer.templates.map((t) => t.language).sort()).toEqual(['bash', 'dockerfile', 'node', 'python3']);
  });
});
