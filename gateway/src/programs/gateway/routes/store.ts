// The function store:
//   GET /store/functions.json   the built-in catalog in OpenFaaS's store format (no auth: what
//                               `faas-cli store list|deploy --url` read; nothing secret in it)
//   GET /system/store           the catalog the UI's store page shows: the one an admin chose, else
//                               STORE_URL, else the built-in one; a remote one that fails is
//                               replaced by the built-in one, saying why
//   PUT /system/store           an admin chooses the catalog: {"url": "https://..."}, {"url": ""} for
//                               the built-in one, {"url": null} to follow STORE_URL again
// The choice is kept in NATS (every gateway, and a restart, sees it); without NATS, in memory.
import { arch } from 'node:os';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { memorySetting, type SharedSetting } from '../../../queue/shared-settings.js';
import { HttpError } from '../http/errors.js';
import { readJson } from '../http/json-body.js';
import { validate } from '../validation.js';
import { platformOf, readBuiltInCatalog, type Catalog } from '../store/catalog.js';
import { catalogUrlProblem, fetchCatalog } from '../store/remote.js';
import { BUILT_IN, BUILT_IN_PATH, storeChoiceSchema, type StoreView } from '../store/view.js';
import type { RouteDeps } from './deps.js';

export function registerStore(router: Router, deps: RouteDeps): void {
  const { config } = deps;
  let builtIn: Promise<Catalog> | undefined;
  const catalog = () =>
    (builtIn ??= config.STORE_DIR
      ? readBuiltInCatalog(config.STORE_DIR, { repo: config.STORE_IMAGE_REPO, tag: config.STORE_IMAGE_TAG || deps.version.release }).catch((error: unknown) => {
          deps.log.error({ err: error, dir: config.STORE_DIR }, 'the built-in store catalog cannot be read');
          builtIn = undefined;
          throw new HttpError(500, 'the built-in store catalog cannot be read');
        })
      : Promise.resolve({ version: '0.2.1', functions: [] }));
  const choice: SharedSetting = deps.storeChoice ?? memorySetting();
  const platform = platformOf(arch()) ?? null;

  router.get(BUILT_IN_PATH, async (ctx) => {
    ctx.set('cache-control', 'no-cache');
    ctx.body = await catalog();
  });

  const view = async (ctx: Context): Promise<StoreView> => {
    let chosen: string | undefined;
    try {
      chosen = await choice.get();
    } catch (error) {
      // NATS away: STORE_URL applies meanwhile; the page says why.
      deps.log.warn({ err: error }, 'the store choice cannot be read');
      chosen = undefined;
    }
    const base = { builtInPath: BUILT_IN_PATH, platform, setting: config.STORE_URL || null, chosen: chosen ?? null } as const;
    const url = chosen === BUILT_IN ? '' : (chosen ?? config.STORE_URL);
    if (!url) return { ...base, catalog: await catalog(), source: 'built-in', url: null, error: null, skipped: 0 };
    try {
      const remote = await fetchCatalog(url);
      return { ...base, catalog: remote.catalog, source: 'remote', url, error: null, skipped: remote.skipped };
    } catch (error) {
      deps.log.info({ url, reason: (error as Error).message, path: ctx.path }, 'store catalog unavailable: showing the built-in one');
      return { ...base, catalog: await catalog(), source: 'built-in', url, error: `The catalog at ${url} cannot be used: ${(error as Error).message}.`, skipped: 0 };
    }
  };

  router.get('/system/store', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = await view(ctx);
  });

  router.put('/system/store', async (ctx) => {
    const { url } = validate(storeChoiceSchema, await readJson(ctx, config.SYSTEM_BODY_LIMIT));
    if (url) {
      const problem = catalogUrlProblem(url);
      if (problem) throw new HttpError(400, `invalid request: url: ${problem}`);
    }
    await choice.set(url === null ? undefined : url === '' ? BUILT_IN : url);
    deps.log.info({ url }, 'store catalog chosen');
    ctx.set('cache-control', 'no-store');
    ctx.body = await view(ctx);
  });
}
