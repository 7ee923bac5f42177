// GET /system/openapi.json: the gateway's OpenAPI 3.1 document, built once
// from the routes' documentation (api/route-docs.ts) and the schemas they
// validate with and answer in.
import type Router from '@koa/router';
import { openApiDocument } from '../api/openapi.js';
import { routeDocs } from '../api/route-docs.js';
import type { RouteDeps } from './deps.js';

export function registerOpenApi(router: Router, deps: RouteDeps & { basicAuth: boolean }): void {
  let document: string | undefined;
  router.get('/system/openapi.json', (ctx) => {
    document ??= JSON.stringify(
      openApiDocument(routeDocs(deps.schemas), {
        version: deps.version.release,
        basicAuth: deps.basicAuth,
        description:
          'The gateway of SwarmFaaS: functions as a service on Docker Swarm, compatible with the OpenFaaS gateway API. Errors are text/plain. /system/* and /ui need the gateway credentials (basic auth) when BASIC_AUTH is on; /function/*, /async-function/*, /healthz, /metrics and /store/* do not.',
      }),
    );
    ctx.type = 'application/json; charset=utf-8';
    ctx.set('cache-control', 'no-cache');
    ctx.body = document;
  });
}
