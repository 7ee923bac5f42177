// The web UI's static files from UI_DIR at /ui/ (index.html for /ui/), and
// GET / -> 302 /ui/. Paths are already normalised; the resolved file must
// still lie inside UI_DIR.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { RouteDeps } from './deps.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * The UI's own files only: no inline script or style (every handler and
 * style is in the files), no framing by other pages (clickjacking), no plugins,
 * no <base> rewriting, forms only to the gateway. The invoke panel renders a
 * function's HTML in a sandboxed srcdoc frame, which inherits this policy.
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every answer under /ui (files, redirects and misses alike). */
function secureUi(ctx: Context): void {
  ctx.set('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
}

export function registerUi(router: Router, deps: RouteDeps): void {
  router.get('/', (ctx) => ctx.redirect('/ui/'));
  // The router is not strict about a trailing slash: '/ui' also matches '/ui/', which must fall through to the files.
  router.get('/ui', (ctx, next) => {
    secureUi(ctx);
    return ctx.path === '/ui' ? ctx.redirect('/ui/') : next();
  });
  router.get('/ui/{*file}', async (ctx) => {
    secureUi(ctx);
    const root = deps.config.UI_DIR ? resolve(deps.config.UI_DIR) : '';
    let relative: string;
    try {
      relative = decodeURIComponent(ctx.path.slice('/ui/'.length));
    } catch {
      ctx.status = 400;
      return;
    }
    if (!root || relative.includes('\0')) return; // 404
    let file = resolve(join(root, relative || 'index.html'));
    if (file !== root && !file.startsWith(root + sep)) return;
    let info = await stat(file).catch(() => undefined);
    if (info?.isDirectory()) {
      file = join(file, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    if (!info?.isFile()) return;
    ctx.type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    ctx.length = info.size;
    ctx.set('cache-control', 'no-cache');
    ctx.body = createReadStream(file);
  });
}
