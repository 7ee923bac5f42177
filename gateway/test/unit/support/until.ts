// Waiting in the unit tests against real servers: polls `read` every 20 ms
// until it answers something other than undefined or false, and answers that.
export async function until<T>(what: string, read: () => T | undefined | false, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
