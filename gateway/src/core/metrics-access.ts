// Who may read the /metrics of the queue worker and the event connector.
// Both are on every namespace's network (they invoke functions there), so
// without a check any function could read every function's name and
// namespace, every subscribed subject and schedule. Prometheus sends a bearer
// token, a Docker secret deploy_stack.sh makes (METRICS_TOKEN_FILE; read by
// Prometheus through authorization.credentials_file). A request from the
// container itself (loopback) needs none: whoever is in there can read the
// token file anyway. /healthz is not behind it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/** The setting, for the schemas of the programs that serve such a /metrics. */
export const metricsAccessSettings = {
  /** A file holding the token Prometheus sends (Authorization: Bearer); empty: /metrics open to anyone. */
  METRICS_TOKEN_FILE: z.string().trim().prefault(''),
};

export interface MetricsAccessSettings {
  /** A file holding the token Prometheus sends (Authorization: Bearer); empty: /metrics open to anyone. */
  METRICS_TOKEN_FILE: string;
}

/** True when the request may go on; otherwise it has been answered 401. */
export type MetricsGate = (req: IncomingMessage, res: ServerResponse) => boolean;

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Reads the token once (call it at start-up, before any privilege is dropped); throws when the file named cannot be read or is empty. */
export function metricsGate(settings: MetricsAccessSettings): MetricsGate {
  if (!settings.METRICS_TOKEN_FILE) return () => true;
  let token: string;
  try {
    token = readFileSync(settings.METRICS_TOKEN_FILE, 'utf8').trim();
  } catch (error) {
    throw new Error(`METRICS_TOKEN_FILE=${settings.METRICS_TOKEN_FILE}: ${(error as Error).message}`);
  }
  if (!token) throw new Error(`METRICS_TOKEN_FILE=${settings.METRICS_TOKEN_FILE} is empty`);
  const expected = digest(`Bearer ${token}`);
  return (req, res) => {
    if (isLoopback(req.socket.remoteAddress)) return true;
    // Compared as digests: same length whatever was sent, in constant time.
    if (timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) return true;
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' });
    res.end('/metrics needs the stack\'s metrics token (Authorization: Bearer ...)\n');
    return false;
  };
}

function isLoopback(address: string | undefined): boolean {
  return !!address && (address === '::1' || /^(::ffff:)?127\./.test(address));
}
