// Which image names a build may write.
import { describe, expect, it } from 'vitest';
import { BUILDER_LABEL, judgeImage, parseImageName, type ImageFacts, type PolicySettings } from '../../src/image-policy.js';

const settings: PolicySettings = {
  stackName: 'func',
  imagePrefix: '',
  reserved: ['swarmfaas/gateway', 'swarmfaas/watchdog', 'swarmfaas/builder', 'swarmfaas-local/'],
  pushPrefixes: [],
  requirePush: false,
  nodes: async () => 1,
};

function facts(local: Record<string, Record<string, string>> = {}, services: Record<string, { service: string; stack: string | undefined }[]> = {}): ImageFacts {
  return {
    localImageLabels: async (full) => local[full],
    servicesUsing: async (canonical) => services[canonical] ?? [],
  };
}

describe('image names', () => {
  it('parses names as Docker does, adding :latest', () => {
    expect(parseImageName('hello')).toMatchObject({ ok: true, name: { full: 'hello:latest', canonical: 'docker.io/library/hello' } });
    expect(parseImageName('me/hello:1.0')).toMatchObject({ ok: true, name: { full: 'me/hello:1.0', canonical: 'docker.io/me/hello', tag: '1.0' } });
    expect(parseImageName('127.0.0.1:5000/team/fn:v2')).toMatchObject({ ok: true, name: { repository: '127.0.0.1:5000/team/fn', canonical: '127.0.0.1:5000/team/fn' } });
    for (const bad of ['Hello', 'a//b', 'x:', 'x@sha256:' + 'a'.repeat(64), 'a b', '-x', 'x:' + 't'.repeat(200), '']) {
      expect(parseImageName(bad).ok, bad).toBe(false);
    }
  });
});

describe('the image policy', () => {
  it('lets a new name, or one this stack\'s builder made, be written', async () => {
    expect(await judgeImage('hello', false, settings, facts())).toMatchObject({ ok: true, push: false, name: { full: 'hello:latest' } });
    expect((await judgeImage('hello', false, settings, facts({ 'hello:latest': { [BUILDER_LABEL]: 'func' } }))).ok).toBe(true);
  });

  it("refuses the stack's own images, in any spelling, with 403", async () => {
    for (const name of ['swarmfaas/watchdog:0.1.0', 'docker.io/swarmfaas/watchdog', 'swarmfaas/gateway:latest', 'swarmfaas-local/node:24']) {
      const verdict = await judgeImage(name, false, settings, facts());
      expect(verdict, name).toMatchObject({ ok: false, status: 403 });
      expect(verdict.ok || verdict.reason).toMatch(/one of the stack's own images/);
    }
  });

  it("refuses an image a stack's service runs, and one on the engine made by someone else", async () => {
    const running = await judgeImage('swarmfaas/echoit:0.1.0', false, settings, facts({}, { 'docker.io/swarmfaas/echoit': [{ service: 'other_echoit', stack: 'other' }] }));
    expect(running).toMatchObject({ ok: false, status: 403 });
    expect(running.ok || running.reason).toMatch(/a service of the stack other other_echoit/);
    const theirs = await judgeImage('hello:1', false, settings, facts({ 'hello:1': { [BUILDER_LABEL]: 'other' } }));
    expect(theirs.ok || theirs.reason).toMatch(/made by the builder of the stack other/);
    const built = await judgeImage('hello:1', false, settings, facts({ 'hello:1': {} }));
    expect(built.ok || built.reason).toMatch(/made by something other than this builder/);
  });

  it('holds names to BUILD_IMAGE_PREFIX when it is set', async () => {
    const prefixed = { ...settings, imagePrefix: 'team-a/' };
    expect((await judgeImage('team-a/fn', false, prefixed, facts())).ok).toBe(true);
    expect(await judgeImage('team-b/fn', false, prefixed, facts())).toMatchObject({ ok: false, status: 403 });
  });

  it('pushes names under a push prefix, and on several nodes refuses the others unless skipPush', async () => {
    const cluster = { ...settings, pushPrefixes: ['127.0.0.1:5000/'], requirePush: true, nodes: async () => 3 };
    expect(await judgeImage('127.0.0.1:5000/fn:1', false, cluster, facts())).toMatchObject({ ok: true, push: true });
    expect(await judgeImage('127.0.0.1:5000/fn:1', true, cluster, facts())).toMatchObject({ ok: true, push: false });
    const local = await judgeImage('fn:1', false, cluster, facts());
    expect(local).toMatchObject({ ok: false, status: 400 });
    expect(local.ok || local.reason).toMatch(/this swarm has 3 nodes: name it under 127\.0\.0\.1:5000\/ \(e\.g\. 127\.0\.0\.1:5000\/fn:1\)/);
    expect((await judgeImage('fn:1', true, cluster, facts())).ok).toBe(true);
  });
});
