// The answers' schemas (api/answers.ts) are the routes' own shapes: the
// types are compared at typecheck time (expectTypeOf: npm run typecheck
// fails on a field renamed on one side only), and real answers of an
// in-process gateway parse against them at run time. The UI's types.js
// imports these types, so the UI's typecheck follows too.
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import * as answers from '../../src/programs/gateway/api/answers.js';
import type { DeadLetter } from '../../src/queue/async-calls.js';
import type { RunRecord } from '../../src/queue/events.js';
import type { FunctionEvents } from '../../src/programs/gateway/routes/events.js';
import type { Overview, OverviewAlert } from '../../src/programs/gateway/routes/overview.js';
import type { FunctionHistory, FunctionsHistory } from '../../src/programs/gateway/prometheus/history.js';
import type { FunctionInstance, LogEntry, NamespaceInfo } from '../../src/programs/gateway/provider/types.js';
import type { AlertOutcome, ScaleResult } from '../../src/programs/gateway/scaling/index.js';
import type { functionJson } from '../../src/programs/gateway/routes/function-json.js';
import { scalingSummary } from '../../src/programs/gateway/scaling/summary.js';
import { loadConfig } from '../../src/programs/gateway/settings.js';
import { status } from './support/fake-provider.js';
import { startGateway, type TestGateway } from './support/test-gateway.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Out<T extends z.ZodType> = z.output<T>;
/**
 * Each assignable to the other, with the same field names (optional ones
 * included, which assignability alone would let differ). expectTypeOf's
 * toEqualTypeOf is stricter still, and is used where it can see through
 * the types (it takes an interface with an intersection in it for another type).
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;

describe('answer schemas and the routes agree', () => {
  it('in their types (checked by tsc)', () => {
    expectTypeOf<ReturnType<typeof functionJson>>().toEqualTypeOf<Out<typeof answers.functionStatusSchema>>();
    // Without its address (the gateway's own), with the calls in flight on it (GET /system/function/{name}).
    expectTypeOf<Same<Omit<FunctionInstance, 'address'> & { inflight?: number }, Out<typeof answers.instanceSchema>>>().toEqualTypeOf<true>();
    expectTypeOf<LogEntry>().toEqualTypeOf<Out<typeof answers.logEntrySchema>>();
    expectTypeOf<NamespaceInfo>().toEqualTypeOf<Out<typeof answers.namespaceSchema>>();
    expectTypeOf<ScaleResult>().toEqualTypeOf<Out<typeof answers.scaleResultSchema>>();
    expectTypeOf<AlertOutcome>().toEqualTypeOf<Out<typeof answers.alertAnswerSchema>['outcomes'][number]>();
    expectTypeOf<FunctionHistory>().toEqualTypeOf<Out<typeof answers.functionHistorySchema>>();
    expectTypeOf<FunctionsHistory>().toEqualTypeOf<Out<typeof answers.functionsHistorySchema>>();
    expectTypeOf<Same<Overview, Out<typeof answers.overviewSchema>>>().toEqualTypeOf<true>();
    expectTypeOf<Same<Overview['prometheus'], Out<typeof answers.overviewSchema>['prometheus']>>().toEqualTypeOf<true>();
    expectTypeOf<OverviewAlert>().toEqualTypeOf<Out<typeof answers.overviewAlertSchema>>();
    expectTypeOf<Same<DeadLetter, Out<typeof answers.deadLetterSchema>>>().toEqualTypeOf<true>();
    expectTypeOf<RunRecord>().toEqualTypeOf<Out<typeof answers.eventRunSchema>>();
    expectTypeOf<Same<FunctionEvents, Out<typeof answers.functionEventsSchema>>>().toEqualTypeOf<true>();
    expectTypeOf<Same<NonNullable<FunctionEvents['pending']>, NonNullable<Out<typeof answers.functionEventsSchema>['pending']>>>().toEqualTypeOf<true>();
  });

  it('in what the gateway answers', async () => {
    const gw: TestGateway = await startGateway();
    cleanups.push(() => gw.close());
    gw.provider.functions.set('a', status('a', { labels: { function: 'true', 'com.openfaas.scale.max': '7' }, limits: { memory: '128Mi' }, createdAt: '2026-01-01T00:00:00Z' }));
    const get = async (path: string) => {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(200);
      return res.json();
    };
    const list = answers.functionStatusSchema.array().parse(await get('/system/functions'));
    expect(list[0]?.scaling).toMatchObject({ type: 'rate', min: 1, max: 7 });
    answers.functionStatusSchema.strict().parse(await get('/system/function/a'));
    answers.infoSchema.strict().parse(await get('/system/info'));
    answers.namespaceSchema.parse(await get('/system/namespace/openfaas-fn'));
    answers.secretNameSchema.array().parse(await get('/system/secrets'));
  });
});

describe('the scaling object', () => {
  const config = loadConfig({});
  it("is the policy's reading of the labels with the gateway's defaults", () => {
    expect(scalingSummary({}, {}, config)).toEqual({ type: 'rate', min: 1, max: 20, step: 5, stepMode: 'multiple', alerts: true, target: null, zero: false, zeroDuration: 300, problems: [] });
    expect(scalingSummary({}, {}, loadConfig({ DEFAULT_MAX_REPLICAS: '8', DEFAULT_MIN_REPLICAS: '2', IDLE_TIMEOUT: '1m' }))).toMatchObject({ min: 2, max: 8, zeroDuration: 60 });
    // Both max labels: the smaller wins; a factor makes the step additive.
    expect(scalingSummary({ 'com.faas.max_replicas': '10', 'com.openfaas.scale.max': '12', 'com.openfaas.scale.factor': '20' }, {}, config)).toMatchObject({ max: 10, step: 2, stepMode: 'add' });
    expect(scalingSummary({ 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '30s' }, {}, config)).toMatchObject({ zero: true, zeroDuration: 30 });
    expect(scalingSummary({ 'com.openfaas.scale.zero': 'true' }, {}, loadConfig({ SCALE_TO_ZERO: 'false' }))).toMatchObject({ zero: false });
  });

  it('names queue scaling with its target, and the labels it could not use', () => {
    expect(scalingSummary({ 'com.openfaas.scale.type': 'queue', 'com.openfaas.scale.target': '3' }, {}, config)).toMatchObject({ type: 'queue', target: 3, alerts: false });
    const bad = scalingSummary({ 'com.openfaas.scale.max': 'lots', 'com.openfaas.scale.type': 'queue', 'com.openfaas.scale.target': '0' }, {}, config);
    expect(bad.max).toBe(20);
    expect(bad.target).toBe(10);
    expect(bad.problems).toHaveLength(2);
  });

  it('names capacity scaling with its target per replica: 70 % of the concurrency limit unless labelled', () => {
    expect(scalingSummary({ 'com.openfaas.scale.type': 'capacity', 'com.openfaas.concurrency': '2' }, {}, config)).toMatchObject({ type: 'capacity', target: 1.4, alerts: false });
    expect(scalingSummary({ 'com.openfaas.scale.type': 'capacity' }, { max_inflight: '10' }, config)).toMatchObject({ type: 'capacity', target: 7 });
    expect(scalingSummary({ 'com.openfaas.scale.type': 'capacity', 'com.openfaas.concurrency': '4', 'com.openfaas.scale.target': '3' }, {}, config)).toMatchObject({ target: 3, problems: [] });
    expect(scalingSummary({ 'com.openfaas.scale.type': 'capacity', 'com.openfaas.concurrency': '2', 'com.openfaas.scale.target': '5' }, {}, config).problems).toEqual([expect.stringContaining('above the concurrency limit')]);
  });
});
