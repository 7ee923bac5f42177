// GET /system/info: orchestration, provider and gateway version (OpenFaaS shape).
import { arch } from 'node:os';
import type Router from '@koa/router';
import type { RouteDeps } from './deps.js';

export function registerInfo(router: Router, deps: RouteDeps): void {
  router.get('/system/info', (ctx) => {
    ctx.body = {
      provider: {
        provider: deps.provider.info.provider,
        orchestration: deps.provider.info.orchestration,
        version: { release: deps.version.release, sha: deps.version.sha },
      },
      version: { release: deps.version.release, sha: deps.version.sha, commit_message: '' },
      arch: arch(),
    };
  });
}
