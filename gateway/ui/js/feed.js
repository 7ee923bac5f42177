// @ts-check
// Keeps one answer of the gateway fresh while a view shows it: loaded at
// once, then again every few seconds; the view is told after every attempt.
// A failed attempt keeps the last good answer and says why it failed (e.g.
// Prometheus is down), so the view can show both.

/**
 * @template T
 * @typedef {object} FeedState
 * @property {T | null} value the last good answer
 * @property {number} receivedAt when it came (ms), 0 before
 * @property {Error | null} error why the last attempt failed; null when it worked
 * @property {boolean} loaded at least one attempt has finished
 */

/**
 * @template T
 * @param {() => Promise<T>} load
 * @param {number} everyMs
 * @param {() => void} onUpdate
 */
export function createFeed(load, everyMs, onUpdate) {
  /** @type {FeedState<T>} */
  const state = { value: null, receivedAt: 0, error: null, loaded: false };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let stopped = false;
  let generation = 0;

  async function attempt() {
    clearTimeout(timer);
    const mine = ++generation;
    try {
      const value = await load();
      if (stopped || mine !== generation) return;
      state.value = value;
      state.receivedAt = Date.now();
      state.error = null;
    } catch (err) {
      if (stopped || mine !== generation) return;
      state.error = err instanceof Error ? err : new Error(String(err));
    }
    state.loaded = true;
    onUpdate();
    if (!stopped) timer = setTimeout(attempt, everyMs);
  }
  void attempt();

  return {
    state,
    /** Loads again now (e.g. after the window changed); the old answer stays until the new one comes. */
    reload() {
      void attempt();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
