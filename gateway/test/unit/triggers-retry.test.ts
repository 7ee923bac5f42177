// The queue worker's decision after each attempt, and its backoff.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, isRetryable, retryDelayMs, type RetryPolicy } from '../../src/triggers/retry.js';

const policy: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1_000, maxDelayMs: 60_000 };
const noJitter = () => 1; // the top of the 80-100 % band: the plain exponential figure

describe('what follows an attempt', () => {
  it('retries 429, 502, 503, 504 and no answer at all, and nothing else', () => {
    for (const status of [0, 429, 502, 503, 504]) expect(isRetryable(status), String(status)).toBe(true);
    for (const status of [200, 201, 202, 204, 301, 400, 401, 403, 404, 408, 413, 500, 501]) expect(isRetryable(status), String(status)).toBe(false);
  });

  it('takes any answer that is not retryable as the answer, even an error status', () => {
    expect(decide(1, 200, 'ok', policy)).toEqual({ kind: 'done', status: 200 });
    expect(decide(1, 500, 'the function failed', policy)).toEqual({ kind: 'done', status: 500 });
    expect(decide(5, 400, 'bad input', policy)).toEqual({ kind: 'done', status: 400 });
  });

  it('retries until the last attempt, then makes a dead letter saying how many attempts were made', () => {
    for (let attempt = 1; attempt < policy.maxAttempts; attempt++) {
      expect(decide(attempt, 503, 'the function answered 503', policy, { random: noJitter })).toMatchObject({ kind: 'retry', status: 503 });
    }
    expect(decide(5, 503, 'the function answered 503', policy)).toEqual({ kind: 'dead', status: 503, reason: 'the function answered 503 (after 5 attempts)' });
    expect(decide(1, 0, 'connection refused', { ...policy, maxAttempts: 1 })).toEqual({ kind: 'dead', status: 0, reason: 'connection refused (after 1 attempt)' });
  });

  it('makes a dead letter at once when the function is gone', () => {
    expect(decide(1, 404, 'function x not found', policy, { notFound: true })).toEqual({ kind: 'dead', status: 404, reason: 'function x not found' });
  });
});

describe('backoff', () => {
  it('doubles from the first delay up to the largest', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs(a, policy, noJitter))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(decide(3, 502, 'x', policy, { random: noJitter })).toMatchObject({ kind: 'retry', delayMs: 4_000 });
  });

  it('stays within 80-100 % of the exponential figure, never past the largest, for any attempt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (attempt, initial, extra, r) => {
        const p = { initialDelayMs: initial, maxDelayMs: initial + extra };
        const plain = Math.min(p.maxDelayMs, initial * 2 ** Math.min(attempt - 1, 30));
        const delay = retryDelayMs(attempt, p, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(plain * 0.8));
        expect(delay).toBeLessThanOrEqual(p.maxDelayMs);
        expect(Number.isFinite(delay)).toBe(true);
      }),
    );
  });

  it('spreads calls that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(4, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('the asynchronous settings', () => {
  it('take their defaults, and a bad value is named', async () => {
    const { loadSettings, SettingsError: ConfigError } = await import('../../src/core/settings.js');
    const { workerSettingsSchema } = await import('../../src/programs/queue-worker/settings.js');
    const loadConfig = (env: Record<string, string>) => loadSettings(workerSettingsSchema, env, 'queue worker settings');
    const config = loadConfig({});
    expect(config).toMatchObject({ NATS_URL: 'nats://nats:4222', QUEUE_MAX_MESSAGES: 10000, QUEUE_MAX_BYTES: 256 * 1024 * 1024, ASYNC_MAX_ATTEMPTS: 5, ASYNC_RETRY_DELAY: 1, ASYNC_ACK_WAIT: 10, ASYNC_MAX_INFLIGHT: 10, ASYNC_STREAM: 'faas-async' });
    expect(loadConfig({ NATS_URL: 'nats://a:4222, nats://b:4222' }).NATS_URL).toBe('nats://a:4222, nats://b:4222');
    expect(loadConfig({ NATS_URL: 'none' }).NATS_URL).toBe('');
    expect(() => loadConfig({ NATS_URL: 'http://nats:4222' })).toThrow(ConfigError);
    expect(() => loadConfig({ NATS_URL: 'http://nats:4222' })).toThrow(/NATS_URL/);
    expect(() => loadConfig({ ASYNC_MAX_ATTEMPTS: '0' })).toThrow(/ASYNC_MAX_ATTEMPTS/);
    expect(() => loadConfig({ ASYNC_STREAM: 'a.b' })).toThrow(/ASYNC_STREAM/);
  });
});
