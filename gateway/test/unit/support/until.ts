// Waiting in the unit tests against real servers: polls `read` (or awaits it) every 20 ms
// until it answers something other than undefined or false, and answers that.
type Maybe<T> = T | undefined | false;

export async function until<T>(what: string, read: () => Maybe<T> | Promise<Maybe<T>>, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
