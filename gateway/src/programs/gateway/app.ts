// The gateway's HTTP side, built from its dependencies (gateway.ts wires
// them). Importing this module has no side effects.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import { BasicAuthChecker, type Credentials } from './http/basic-auth.js';
import { errorHandler } from './http/errors.js';
import { invocationTarget } from './http/invocation-target.js';
import { needsAuth, normalisePath } from './http/normalise-path.js';
import { sameOriginChanges } from './http/same-origin.js';
import { registerDeleteFunction } from './routes/function-delete.js';
import { registerDeployFunction } from './routes/function-deploy.js';
import { registerGetFunction } from './routes/function-get.js';
import { registerUpdateFunction } from './routes/function-update.js';
import { registerListFunctions } from './routes/functions-list.js';
import { registerHealthz } from './routes/healthz.js';
import { registerInfo } from './routes/info.js';
import type { InvocationCore } from '../../core/invocation/core.js';
import { registerAlert } from './routes/alert.js';
import { registerFunctionHistory } from './routes/function-history.js';
import { createInvoker, registerInvoke, type Invoker } from './routes/invoke.js';
import { registerLogs } from './routes/logs.js';
import { registerMonitoringProxy } from './routes/monitoring-proxy.js';
import { registerNamespaces } from './routes/namespaces.js';
import { registerOverview } from './routes/overview.js';
import { registerMetrics } from './routes/metrics.js';
import { registerScaleFunction } from './routes/scale-function.js';
import { registerSecrets } from './routes/secrets.js';
import { registerUi } from './routes/ui.js';
import type { RouteDeps } from './routes/deps.js';
import { registerAsyncInvoke } from './routes/async-invoke.js';
import { registerAsyncDeadLetters } from './routes/async-dead-letters.js';
import { registerEvents } from './routes/events.js';
import { isSignedBuild, registerBuild } from './routes/build.js';
import { registerOpenApi } from './routes/openapi.js';
import { registerStore } from './routes/store.js';
import { registerSource } from './routes/source.js';

export interface AppOptions extends RouteDeps {
  /** Basic-auth credentials for /system/* and /ui; undefined: no auth. */
  credentials?: Credentials;
}

/**
 * The gateway's HTTP request listener: invocations go straight to the
 * invoker (the hot path, no Koa), everything else to the Koa app.
 */
export function createRequestListener(options: AppOptions, core: InvocationCore): RequestListener {
  const invoke = createInvoker(options, core);
  const app = createApp(options, invoke).callback();
  const debug = options.log.isLevelEnabled('debug') ? options.log : undefined;
  return (req: IncomingMessage, res: ServerResponse) => {
    if (debug) {
      const started = performance.now();
      res.once('close', () => debug.debug({ method: req.method, path: req.url, status: res.statusCode, ms: +(performance.now() - started).toFixed(2) }, 'request'));
    }
    const target = invocationTarget(req.url ?? '/');
    if (target) void invoke(req, res, target);
    else void app(req, res);
  };
}

function createApp(options: AppOptions, invoke: Invoker): Koa {
  const { log } = options;
  const app = new Koa({ proxy: false });
  app.silent = true; // errors are logged by errorHandler

  app.use(errorHandler(log));

  // Normalise before auth and routing, so no spelling of /system/* skips auth.
  app.use(async (ctx, next) => {
    const normalised = normalisePath(ctx.path);
    if (!normalised.ok) {
      ctx.status = 400;
      ctx.body = `invalid path: ${normalised.reason}`;
      return;
    }
    if (normalised.path !== ctx.path) ctx.path = normalised.path;
    await next();
  });

  const checker = options.credentials ? new BasicAuthChecker(options.credentials) : undefined;
  if (checker) {
    app.use(async (ctx, next) => {
      // A signed build request carries its own proof (the builder checks it).
      if (needsAuth(ctx.path) && !checker.check(ctx.get('authorization')) && !isSignedBuild(ctx)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Basic realm="swarmfaas gateway", charset="UTF-8"');
        ctx.body = 'authentication required';
        return;
      }
      await next();
    });
  }

  // Changes to /system/* only from the gateway's own pages or from clients that are no browser page.
  const originGuard = sameOriginChanges(new Set(options.config.ALLOWED_ORIGINS));
  app.use((ctx, next) => (needsAuth(ctx.path) ? originGuard(ctx, next) : next()));

  // Case-sensitive: /SYSTEM/functions is not /system/functions (and needs auth anyway).
  const router = new Router({ sensitive: true });
  registerRoutes(router, options, invoke);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** Every route of the gateway (api/route-docs.ts documents each; test/unit/openapi.test.ts checks). */
export function registerRoutes(router: Router, options: AppOptions, invoke: Invoker): void {
  registerHealthz(router, options);
  registerMetrics(router, options);
  registerInfo(router, options);
  registerListFunctions(router, options);
  registerGetFunction(router, options);
  registerDeployFunction(router, options);
  registerUpdateFunction(router, options);
  registerDeleteFunction(router, options);
  registerLogs(router, options);
  registerAlert(router, options);
  registerScaleFunction(router, options);
  registerNamespaces(router, options);
  registerSecrets(router, options);
  registerFunctionHistory(router, options);
  registerOverview(router, options);
  registerMonitoringProxy(router, options);
  registerInvoke(router, invoke);
  registerAsyncInvoke(router, options);
  registerAsyncDeadLetters(router, options);
  registerEvents(router, options);
  registerBuild(router, options, options.credentials ? new BasicAuthChecker(options.credentials) : undefined);
  registerStore(router, options);
  registerSource(router, options, options.credentials ? 'basic-auth' : 'open');
  registerOpenApi(router, { ...options, basicAuth: options.credentials !== undefined });
  registerUi(router, options);
}
