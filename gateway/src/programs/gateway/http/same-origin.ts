// Keeps other pages from driving /system/* with the user's browser
// credentials (cached basic auth). A browser names the page that sent a
// request in Origin: a change to /system/* is accepted only from the
// gateway's own origin (its UI) or with no Origin at all (curl, the CLI,
// AlertManager). A page a function served is sandboxed into an opaque
// origin ("null": routes/invoke.ts sends its answers with a CSP sandbox), so
// it is foreign too. Browsers send Origin with every cross-origin POST, PUT
// and DELETE, forms included, so the content type need not be checked
// (clients that send JSON as text/plain, as fetch does by default, still work).
import type { Context, Next } from 'koa';

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `allowed`: further origins trusted as the gateway's own (the UI behind a proxy that rewrites Host), e.g. "https://faas.example.com". */
export function sameOriginChanges(allowed: ReadonlySet<string> = new Set()) {
  return (ctx: Context, next: Next) => guard(ctx, next, allowed);
}

async function guard(ctx: Context, next: Next, allowed: ReadonlySet<string>): Promise<void> {
  if (CHANGES.has(ctx.method)) {
    const origin = ctx.get('origin');
    if (origin && !allowed.has(origin.toLowerCase()) && !isOwnOrigin(origin, ctx.get('host'))) {
      ctx.status = 403;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `cross-origin request refused: ${ctx.method} ${ctx.path} from ${origin}`;
      return;
    }
  }
  await next();
}

/** "http://host:port" or "https://host:port" naming the same host and port the request was sent to. */
function isOwnOrigin(origin: string, host: string): boolean {
  if (!host) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}
