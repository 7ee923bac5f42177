// Namespaces (OpenFaaS shapes): GET /system/namespaces answers the names;
// GET/POST/PUT/DELETE /system/namespace/{name} with {name, labels,
// annotations}. A namespace's functions are isolated from the others'
// (on Swarm: a network of their own). Delete is refused (409) while it holds functions.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { NAMESPACE_NAME } from '../../../core/functions/names.js';
import { HttpError } from '../http/errors.js';
import { readJson } from '../http/json-body.js';
import type { NamespaceInfo } from '../provider/types.js';
import { namespaceSchema, validate } from '../validation.js';
import type { RouteDeps } from './deps.js';

export function registerNamespaces(router: Router, deps: RouteDeps): void {
  router.get('/system/namespaces', async (ctx) => {
    ctx.body = (await deps.provider.listNamespaces()).map((n) => n.name);
  });

  router.get('/system/namespace/:name', async (ctx) => {
    const name = pathName(ctx);
    const found = (await deps.provider.listNamespaces()).find((n) => n.name === name);
    if (!found) throw new HttpError(404, `namespace ${name} not found`);
    ctx.body = found;
  });

  const write = (create: boolean) => async (ctx: Context) => {
    const body = validate(namespaceSchema, await readJson(ctx, deps.config.SYSTEM_BODY_LIMIT));
    const name = ctx.params.name !== undefined ? pathName(ctx) : body.name;
    if (!name) throw new HttpError(400, 'invalid request: name: the namespace name is required');
    if (body.name !== undefined && body.name !== name) throw new HttpError(400, `invalid request: name: ${body.name} does not match the namespace in the path (${name})`);
    const namespace: NamespaceInfo = { name, labels: body.labels ?? {}, annotations: body.annotations ?? {} };
    if (create) await deps.provider.createNamespace(namespace);
    else await deps.provider.updateNamespace(namespace);
    ctx.status = create ? 201 : 202;
    ctx.body = namespace;
  };
  router.post('/system/namespace/:name', write(true));
  router.post('/system/namespace', write(true));
  router.put('/system/namespace/:name', write(false));

  router.delete('/system/namespace/:name', async (ctx) => {
    await deps.provider.deleteNamespace(pathName(ctx));
    ctx.status = 202;
    ctx.body = '';
  });
}

function pathName(ctx: Context): string {
  const name = ctx.params.name ?? '';
  if (!NAMESPACE_NAME.test(name)) throw new HttpError(400, `invalid request: namespace: ${JSON.stringify(name)} is not a namespace name`);
  return name;
}
