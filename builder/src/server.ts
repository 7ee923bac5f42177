// The builder's HTTP side: POST /build (the OpenFaaS Function Builder API;
// the gateway relays its /system/build and /build here) and GET /healthz.
//
// A build request goes:
//  1. who: a signature (X-Build-Signature) or the gateway's word that it
//     checked its basic auth (X-Gateway-Authenticated, which only the gateway
//     can send: the builder is on a network of its own with the gateway and
//     publishes no port). Neither: 401 before the body is read.
//  2. size: a Content-Length over BUILD_MAX_CONTEXT is a 413 at once; a body
//     that grows past it while read is cut off with a 413.
//  3. the body read once (build-request.ts): HMAC, context file, config. A
//     signature that does not match: 401, nothing built.
//  4. the config and the image name (build-config.ts, image-policy.ts): 400/403.
//  5. a build slot (slots.ts), the build (engine.ts) within BUILD_TIMEOUT,
//     the push when the name is under a push prefix, the answer (answer.ts).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { BuildAnswer, refuse, wantsStream } from './answer.js';
import { parseBuildConfig } from './build-config.js';
import { discard, readBuildRequest } from './build-request.js';
import type { Config } from './config.js';
import type { Backend, BuildOutcome, BuildRequest } from './engine.js';
import { judgeImage, type ImageFacts } from './image-policy.js';
import { parseSignature, SignatureCheck } from './signature.js';
import { BuildSlots, QueueFull } from './slots.js';

/** Sent by the gateway, and only by it (see 1. above), once it has checked the caller's basic auth. */
export const GATEWAY_AUTH_HEADER = 'x-gateway-authenticated';
/** This builder's own addition to the API: "true" runs every step again, ignoring the build cache (base images stay). */
const NO_CACHE_HEADER = 'x-build-no-cache';

/** What the builder needs of the engine (engine.ts; faked in unit tests). */
export interface BuildEngine extends ImageFacts {
  build(request: BuildRequest): Promise<BuildOutcome>;
  push(image: { repository: string; tag: string }, signal: AbortSignal, onLines: (lines: string[]) => void): Promise<{ ok: true; digest: string } | { ok: false; error: string }>;
  nodeCount(): Promise<number>;
}

export interface BuilderDeps {
  config: Config;
  engine: BuildEngine;
  backend: Backend;
  log: Logger;
  /** The payload secret (read at start-up); undefined: only the gateway's word authenticates. */
  secret: Buffer | undefined;
}

export interface Builder {
  listener: RequestListener;
  slots: BuildSlots;
  /** Builds in progress or waiting finish (or are stopped) before this resolves. */
  drain(): Promise<void>;
}

export function createBuilder(deps: BuilderDeps): Builder {
  const { config, engine, log } = deps;
  const slots = new BuildSlots(config.BUILD_CONCURRENCY, config.BUILD_QUEUE);
  const inflight = new Set<Promise<void>>();
  let draining = false;

  const listener: RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain' }).end(draining ? 'draining\n' : 'OK\n');
      return;
    }
    if (path !== '/build' && path !== '/system/build') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: POST /build\n');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('POST a build request (a tar) to /build\n');
      return;
    }
    const work = handleBuild(req, res).catch((error: Error) => {
      log.error({ err: error }, 'build request failed');
      if (!res.headersSent) refuse(res, 500, '', `the builder failed: ${error.message}`, performance.now());
      else res.end();
    });
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  };

  /** Answers a refusal and closes the connection without reading the rest of the body. */
  function refuseEarly(req: IncomingMessage, res: ServerResponse, status: number, error: string, started: number): void {
    refuse(res, status, '', error, started, { connection: 'close' });
    res.once('finish', () => setTimeout(() => req.destroy(), 200).unref());
  }

  async function handleBuild(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    if (draining) return refuseEarly(req, res, 503, 'the builder is stopping: try again in a moment', started);
    const vouched = ['basic-auth', 'open'].includes(String(req.headers[GATEWAY_AUTH_HEADER] ?? ''));
    const signature = parseSignature(req.headers['x-build-signature'] as string | undefined);
    if (!vouched) {
      if (!signature.ok) {
        return refuseEarly(req, res, 401, `${signature.reason}: sign the tar with the payload secret (HMAC-SHA256), or POST it to the gateway's /system/build with its credentials`, started);
      }
      if (!deps.secret) return refuseEarly(req, res, 401, 'the builder has no payload secret to check X-Build-Signature with', started);
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > config.BUILD_MAX_CONTEXT) {
      return refuseEarly(req, res, 413, `the request is ${declared} bytes, more than BUILD_MAX_CONTEXT (${config.BUILD_MAX_CONTEXT} bytes)`, started);
    }

    const check = !vouched && signature.ok && deps.secret ? new SignatureCheck(deps.secret) : undefined;
    const read = await readBuildRequest(req, { limit: config.BUILD_MAX_CONTEXT, workDir: config.WORK_DIR, ...(check ? { signature: check } : {}) });
    if (read.kind === 'too-large') return refuseEarly(req, res, 413, `the request is larger than BUILD_MAX_CONTEXT (${config.BUILD_MAX_CONTEXT} bytes): stopped reading it`, started);
    if (read.kind === 'aborted') return;
    try {
      if (check && signature.ok && !check.matches(signature.digest)) {
        log.warn({ bytes: read.bytes }, 'build refused: X-Build-Signature does not match');
        return refuse(res, 401, '', 'X-Build-Signature does not match the body: it must be sha256= and the HMAC-SHA256 of the exact bytes sent, keyed with the payload secret', started);
      }
      if (read.invalid) return refuse(res, 400, '', read.invalid, started);
      const parsed = parseBuildConfig(read.config);
      if (!parsed.ok) return refuse(res, 400, '', parsed.reason, started);
      const { config: build } = parsed;
      const verdict = await judgeImage(
        build.image,
        build.skipPush,
        {
          stackName: config.STACK_NAME,
          imagePrefix: config.BUILD_IMAGE_PREFIX,
          reserved: config.BUILD_RESERVED,
          pushPrefixes: config.BUILD_PUSH_PREFIXES,
          requirePush: config.BUILD_REQUIRE_PUSH,
          nodes: () => engine.nodeCount(),
        },
        engine,
      );
      if (!verdict.ok) return refuse(res, verdict.status, build.image, verdict.reason, started);

      const answer = new BuildAnswer(res, wantsStream(req.headers.accept), verdict.name.full, started);
      const stop = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) stop.abort(new Error('the client went away'));
      });
      answer.open();
      let release: () => void;
      const waitStarted = performance.now();
      let waited = false;
      try {
        release = await slots.acquire({
          signal: stop.signal,
          onPosition: (ahead) => {
            waited = true;
            answer.log(`waiting for a build slot: ${ahead} build${ahead === 1 ? '' : 's'} ahead of this one (BUILD_CONCURRENCY=${config.BUILD_CONCURRENCY})`);
          },
        });
      } catch (error) {
        if (error instanceof QueueFull && !res.headersSent) return refuse(res, 429, verdict.name.full, `too many builds waiting: ${error.message}; try again later`, started);
        if (!stop.signal.aborted) answer.finish({ ok: false, error: (error as Error).message });
        return;
      }
      try {
        if (waited) answer.log(`a build slot is free after ${((performance.now() - waitStarted) / 1000).toFixed(1)} s`);
        await runBuild(answer, verdict.name, verdict.push, { ...build, noCache: /^(1|true|yes)$/i.test(String(req.headers[NO_CACHE_HEADER] ?? '')) }, read, stop);
      } finally {
        release();
      }
    } finally {
      await discard(read.contextFile);
    }
  }

  async function runBuild(
    answer: BuildAnswer,
    name: { full: string; repository: string; tag: string },
    push: boolean,
    build: { buildArgs: Record<string, string>; platforms: string[]; noCache: boolean },
    read: { contextFile: string; contextEntries: number; contextBytes: number; bytes: number },
    stop: AbortController,
  ): Promise<void> {
    const buildStarted = performance.now();
    const timer = setTimeout(() => stop.abort(new Error(`the build took longer than BUILD_TIMEOUT (${config.BUILD_TIMEOUT} s) and was stopped`)), config.BUILD_TIMEOUT * 1000);
    const buildArgs = { ...config.BUILD_ARGS, ...build.buildArgs };
    answer.log(`building ${name.full} with ${deps.backend === 'buildkit' ? 'BuildKit' : 'the classic builder'}${build.noCache ? ', without the build cache' : ''}: a context of ${read.contextEntries} entries, ${read.contextBytes} bytes`);
    let outcome: BuildOutcome;
    try {
      outcome = await engine.build({
        contextFile: read.contextFile,
        image: name.full,
        buildArgs,
        platform: build.platforms[0],
        noCache: build.noCache,
        stackName: config.STACK_NAME,
        backend: deps.backend,
        cpuShares: config.BUILD_CPU_SHARES,
        memory: config.BUILD_MEMORY,
        signal: stop.signal,
        onLines: (lines) => lines.forEach((line) => answer.log(line)),
      });
      if (outcome.ok && push) {
        answer.log(`pushing ${name.full}`);
        const pushed = await engine.push(name, stop.signal, (lines) => lines.forEach((line) => answer.log(line)));
        if (!pushed.ok) outcome = { ok: false, error: stop.signal.aborted ? String((stop.signal.reason as Error)?.message ?? stop.signal.reason) : pushed.error, engine: true };
        else answer.log(`pushed ${name.full}${pushed.digest ? `@${pushed.digest}` : ''}`);
      }
    } finally {
      clearTimeout(timer);
    }
    const seconds = ((performance.now() - buildStarted) / 1000).toFixed(1);
    if (outcome.ok) {
      answer.log(`built ${name.full} (${outcome.imageId.slice(0, 19)}) in ${seconds} s`);
      const result = answer.finish({ ok: true });
      log.info({ image: name.full, seconds: Number(seconds), duration: result.duration, bytes: read.bytes, pushed: push }, 'built');
      return;
    }
    const error = stop.signal.aborted ? ((stop.signal.reason as Error)?.message ?? String(stop.signal.reason)) : outcome.error;
    answer.log(`the build of ${name.full} failed after ${seconds} s: ${error}`);
    answer.finish({ ok: false, error, code: outcome.engine && !stop.signal.aborted ? 502 : 422 });
    log.info({ image: name.full, seconds: Number(seconds), error }, 'build failed');
  }

  return {
    listener,
    slots,
    async drain() {
      draining = true;
      await Promise.allSettled([...inflight]);
    },
  };
}
