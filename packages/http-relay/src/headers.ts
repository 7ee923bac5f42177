/**
 * The headers a proxy passes on (RFC 9110 7.6.1): never the ones that
 * describe a single connection, nor those the message's Connection header
 * names; never Expect either, which the receiving side has already answered
 * (Node sends 100 Continue itself) and which undici refuses to send.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

type Headers = Record<string, string | string[] | undefined>;

/** A fresh copy of `headers` without the hop-by-hop ones, nor those in `alsoDrop` (lower-case names). */
export function forwardableHeaders(headers: Headers, alsoDrop?: ReadonlySet<string>): Record<string, string | string[]> {
  const connection = headers['connection'];
  // Most messages name nothing in Connection: parse it only when it is there.
  const named = connection === undefined ? undefined : new Set(String(connection).split(',').map((t) => t.trim().toLowerCase()));
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || alsoDrop?.has(name) || named?.has(name)) continue;
    out[name] = value;
  }
  return out;
}
