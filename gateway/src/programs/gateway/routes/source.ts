// Functions written in the browser (the UI's "New function" page):
//   GET  /system/templates          the templates and the files a function starts from
//   GET  /system/source/{name}      the kept source of a function written here (404: none)
//   POST /system/source             build the source and deploy it: the template plus the
//                                   page's files are packed into a build request (source/tar.ts)
//                                   and sent to the stack's builder, vouched by the gateway's
//                                   basic auth as /system/build is; the builder's NDJSON progress
//                                   is relayed line by line as it comes, then the function is
//                                   deployed (or rolled onto the new image) and its source kept
//                                   (queue/kept-sources.ts). A failed build deploys nothing.
// The answer is NDJSON: the builder's objects ({log, status: "in_progress"}), then the last one,
// {status: "deployed", image, service, namespace, updated} or {status: "failed", error, log}.
import { PassThrough } from 'node:stream';
import type Router from '@koa/router';
import { confine } from '../confinement.js';
import { HttpError } from '../http/errors.js';
import { readJson } from '../http/json-body.js';
import { limitsOf, wakeReplicas } from '../scaling/policy.js';
import { validate } from '../validation.js';
import { memorySources, type SourceStore } from '../../../queue/kept-sources.js';
import { SOURCE_ANNOTATION, SOURCE_LIMIT, sourceImage, sourceRequestSchema } from '../source/request.js';
import { packTar } from '../source/tar.js';
import { contextOf, readTemplates, type Template } from '../source/templates.js';
import type { FunctionDeployment } from '../provider/types.js';
import { ANNOTATION } from '../../../core/labels.js';
import { NO_BUILDER, postToBuilder } from './build.js';
import type { RouteDeps } from './deps.js';

export function registerSource(router: Router, deps: RouteDeps, vouch: 'basic-auth' | 'open'): void {
  const { config } = deps;
  const sources: SourceStore = deps.sources ?? memorySources();
  let templates: Promise<Map<string, Template>> | undefined;
  const loadTemplates = () =>
    (templates ??= readTemplates(config.TEMPLATE_DIR).catch((error: unknown) => {
      templates = undefined;
      deps.log.error({ err: error, dir: config.TEMPLATE_DIR }, 'the templates cannot be read');
      throw new HttpError(500, 'the templates cannot be read');
    }));

  router.get('/system/templates', async (ctx) => {
    const all = await loadTemplates();
    ctx.set('cache-control', 'no-cache');
    ctx.body = {
      builder: Boolean(config.BUILDER_URL),
      durable: sources.durable,
      templates: [...all.values()].map((t) => ({ language: t.language, welcome: t.welcome, files: t.files })),
    };
  });

  router.get('/system/source/:name', async (ctx) => {
    const [service = '', namespace = config.DEFAULT_NAMESPACE] = String(ctx.params.name).split('.', 2);
    const kept = await sources.get(service, namespace);
    if (!kept) throw new HttpError(404, `no source is kept for ${service}.${namespace}`);
    ctx.set('cache-control', 'no-store');
    ctx.body = kept;
  });

  router.post('/system/source', async (ctx) => {
    const body = validate(sourceRequestSchema, await readJson(ctx, SOURCE_LIMIT * 2 + config.SYSTEM_BODY_LIMIT));
    const template = (await loadTemplates()).get(body.template);
    if (!template) throw new HttpError(400, `invalid request: template: no template ${body.template} (${[...(await loadTemplates()).keys()].join(', ')})`);
    const namespace = body.namespace || config.DEFAULT_NAMESPACE;
    const image = sourceImage(config.SOURCE_IMAGE_PREFIX, config.SOURCE_IMAGE_NAME, body.service, namespace, config.DEFAULT_NAMESPACE);
    // Checked now, before any build: a wrong name, label or secret is a 400, as on POST /system/functions.
    const deployment: FunctionDeployment = confine(
      validate(deps.schemas.deployment, {
        service: body.service,
        namespace,
        image,
        ...(template.fprocess ? { envProcess: template.fprocess } : {}),
        ...(body.envVars ? { envVars: body.envVars } : {}),
        ...(body.secrets ? { secrets: body.secrets } : {}),
        labels: body.labels ?? {},
        annotations: { [SOURCE_ANNOTATION]: template.language, ...(template.openapi ? { [ANNOTATION.openapi]: template.openapi } : {}) },
      }),
      config,
    );
    if (deps.provider.rules.reservedNames.has(deployment.service)) {
      throw new HttpError(400, `invalid request: service: ${deployment.service} is the name of one of the stack's own services; choose another`);
    }
    if (!config.BUILDER_URL) throw new HttpError(503, NO_BUILDER);

    const tar = packTar([
      { path: 'com.openfaas.docker.config', content: JSON.stringify({ image, buildArgs: {}, platforms: [], skipPush: false }) },
      ...contextOf(template, body.files),
    ]);

    ctx.req.socket.setTimeout(0);
    const out = new PassThrough();
    ctx.status = 200;
    ctx.type = 'application/x-ndjson';
    ctx.set('cache-control', 'no-store');
    ctx.body = out;
    const send = (object: unknown) => out.write(`${JSON.stringify(object)}\n`);
    const aborted = new AbortController();
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) aborted.abort();
    });
    void buildAndDeploy({ image, tar, deployment, send, signal: aborted.signal })
      .then(async (result) => {
        if (result.status !== 'success') return;
        const existing = await deps.provider.get({ name: deployment.service, namespace });
        if (existing) await deps.provider.update(deployment);
        else await deps.provider.deploy({ ...deployment, replicas: wakeReplicas(limitsOf(deployment.labels ?? {}, config)) });
        await deps.functions.refresh({ name: deployment.service, namespace }).catch(() => undefined);
        await sources
          .put({
            service: deployment.service,
            namespace,
            template: template.language,
            files: body.files,
            ...(body.envVars ? { envVars: body.envVars } : {}),
            ...(body.secrets ? { secrets: body.secrets } : {}),
            ...(body.labels ? { labels: body.labels } : {}),
            image,
            updatedAt: new Date().toISOString(),
          })
          .catch((error: unknown) => {
            deps.log.warn({ err: error, service: deployment.service }, 'the source of a function cannot be kept');
            send({ status: 'in_progress', log: [`warning: the source could not be kept (${(error as Error).message}); the function is deployed`] });
          });
        deps.log.info({ service: deployment.service, namespace, image, updated: Boolean(existing) }, 'function built from source and deployed');
        send({ status: 'deployed', image, service: deployment.service, namespace, updated: Boolean(existing) });
      })
      .catch((error: unknown) => {
        deps.log.warn({ err: error, service: deployment.service }, 'a function built from source could not be deployed');
        send({ status: 'failed', log: [], error: `the image was built but the function could not be deployed: ${(error as Error).message}` });
      })
      .finally(() => out.end());

    async function buildAndDeploy(
      job: { image: string; tar: Buffer; deployment: FunctionDeployment; send: (o: unknown) => void; signal: AbortSignal },
    ): Promise<{ status: string }> {
      const base = config.BUILDER_URL;
      let answer;
      try {
        answer = await postToBuilder(base, { 'content-type': 'application/x-tar', accept: 'application/x-ndjson', 'x-gateway-authenticated': vouch }, job.tar, job.signal);
      } catch (error) {
        job.send({ status: 'failed', log: [], error: `the builder did not answer at ${base}: ${(error as Error).message}` });
        return { status: 'failed' };
      }
      if (answer.statusCode !== 200) {
        const text = await answer.body.text();
        let error = text;
        try {
          error = (JSON.parse(text) as { error?: string }).error ?? text;
        } catch {
          // not JSON: the text as it is
        }
        job.send({ status: 'failed', log: [], error: `the builder refused the build (${answer.statusCode}): ${error}` });
        return { status: 'failed' };
      }
      let last = 'failed';
      let pending = '';
      const relayLine = (line: string) => {
        if (!line.trim()) return;
        let object: { status?: unknown };
        try {
          object = JSON.parse(line) as { status?: unknown };
        } catch {
          return;
        }
        last = typeof object.status === 'string' ? object.status : last;
        // The builder's success is not the end: the deploy follows.
        job.send(last === 'success' ? { ...object, status: 'in_progress', built: true } : object);
      };
      for await (const chunk of answer.body) {
        pending += (chunk as Buffer).toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) relayLine(line);
      }
      relayLine(pending);
      if (last !== 'success' && last !== 'failed') job.send({ status: 'failed', log: [], error: 'the builder stopped answering before the build ended' });
      return { status: last };
    }
  });
}
