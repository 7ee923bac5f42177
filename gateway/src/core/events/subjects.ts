// NATS subjects as functions subscribe to them (the annotation `topic`) and
// as POST /system/events/{subject} publishes to them: what is a valid one,
// which belong to the stack itself, and how wildcards match. Pure.
//
// A subject is tokens separated by dots; a subscription may use `*` (one
// token) and `>` (the rest, last token only). The first token must be
// literal and not one of the stack's own: a function subscribed to `*.*.*`
// or `faas-async.>` would be handed other functions' asynchronous calls, and
// one publishing to `$JS.API.>` could delete the streams.

/** Subjects whose first token starts with one of these are the stack's (JetStream's API, inboxes, the stack's streams). */
const RESERVED_STARTS = ['$', '_', 'faas-'];

/** The topic that means "run on the schedule" rather than "subscribe to this subject" (the OpenFaaS cron connector's). */
export const CRON_TOPIC = 'cron-function';

/** Longest subject accepted (NATS has no hard limit; keeps metric labels and consumer names sane). */
const MAX_SUBJECT = 200;

export interface SubjectRules {
  /** First tokens of the stack's own streams besides those RESERVED_STARTS covers (the ASYNC_STREAM setting may name another). */
  reserved: readonly string[];
}

/** Why `subject` cannot be subscribed to (wildcards allowed) or published to (none allowed); undefined: it can. */
export function subjectProblem(subject: string, use: 'subscribe' | 'publish', rules: SubjectRules): string | undefined {
  if (subject.length === 0) return 'an empty subject';
  if (subject.length > MAX_SUBJECT) return `a subject longer than ${MAX_SUBJECT} characters`;
  // NATS subjects hold no whitespace; control characters would break headers and logs.
  if (/[\s\u0000-\u001f\u007f]/.test(subject)) return `${JSON.stringify(subject)} holds whitespace or a control character`;
  const tokens = subject.split('.');
  if (tokens.some((t) => t === '')) return `${JSON.stringify(subject)} has an empty token (two dots, or a dot at an end)`;
  const first = tokens[0]!;
  if (first === '*' || first === '>') return `${JSON.stringify(subject)} starts with a wildcard: the first token must be a name`;
  if (RESERVED_STARTS.some((p) => first.startsWith(p)) || rules.reserved.includes(first)) {
    return `${JSON.stringify(subject)} is one of the stack's own subjects (a first token starting with $, _ or faas-, or the stream ${first})`;
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const wildcard = token === '*' || token === '>';
    if (!wildcard && /[*>]/.test(token)) return `${JSON.stringify(subject)}: a wildcard (* or >) must be a whole token`;
    if (wildcard && use === 'publish') return `${JSON.stringify(subject)}: a message is published to a subject without wildcards`;
    if (token === '>' && i !== tokens.length - 1) return `${JSON.stringify(subject)}: > may only be the last token`;
  }
  if (use === 'publish' && subject === CRON_TOPIC) return `${CRON_TOPIC} is the schedule trigger (annotation schedule), not a subject`;
  return undefined;
}

/** Whether the subscription `pattern` receives a message published to `subject` (no wildcards in it). */
export function subjectMatches(pattern: string, subject: string): boolean {
  return covers(pattern, subject);
}

/**
 * Whether every subject `inner` matches is also matched by `outer` (both
 * may hold wildcards). `a.*` covers `a.b` and `a.*`; `a.>` covers `a.b.c`
 * and `a.*`; nothing but `>`-ending patterns covers a `>`.
 */
export function covers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const i = inner.split('.');
  for (let k = 0; k < o.length; k++) {
    const token = o[k]!;
    if (token === '>') return i.length > k; // the rest, at least one token
    if (k >= i.length) return false;
    const other = i[k]!;
    if (other === '>') return false; // inner goes on without end; only a > covers that
    if (token !== '*' && token !== other) return false;
  }
  return o.length === i.length;
}

/**
 * The patterns of a list that no other pattern of it covers, in their first
 * order, without repeats: a function subscribed to `orders.*` and
 * `orders.eu` gets each message once, and a stream is given no subject that
 * another of its subjects already takes.
 */
export function withoutCovered(patterns: readonly string[]): string[] {
  const unique = [...new Set(patterns)];
  return unique.filter((p, index) => !unique.some((q, other) => other !== index && covers(q, p) && (!covers(p, q) || other < index)));
}

/** Whether some subject is matched by both patterns. */
export function overlaps(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let k = 0; ; k++) {
    const s = x[k];
    const t = y[k];
    if (s === undefined || t === undefined) return s === t; // both ended together
    if (s === '>' || t === '>') return true; // the other has at least this token (it did not end)
    if (s !== '*' && t !== '*' && s !== t) return false;
  }
}

/** A pattern covering both: equal tokens kept, others `*`; `>` from the first difference of length. */
function merged(a: string, b: string): string {
  const x = a.split('.');
  const y = b.split('.');
  const out: string[] = [];
  for (let k = 0; k < Math.max(x.length, y.length); k++) {
    const s = x[k];
    const t = y[k];
    if (s === undefined || t === undefined || s === '>' || t === '>') {
      out.push('>');
      break;
    }
    out.push(s === t ? s : '*');
  }
  return out.join('.');
}

/**
 * The subjects one stream captures for all these patterns: none covered by
 * another, and none overlapping another (JetStream refuses both in one
 * stream): two that overlap give way to one that covers them (`a.*.c` and
 * `a.b.*` to `a.*.*`). A stream may so capture subjects no function wants;
 * with interest retention their messages are not kept.
 */
export function streamSubjectsOf(patterns: readonly string[]): string[] {
  let list = withoutCovered(patterns);
  for (;;) {
    let pair: [number, number] | undefined;
    outer: for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (overlaps(list[i]!, list[j]!)) {
          pair = [i, j];
          break outer;
        }
      }
    }
    if (!pair) return list.sort();
    const cover = merged(list[pair[0]]!, list[pair[1]]!);
    list = withoutCovered([...list.filter((_, k) => k !== pair[0] && k !== pair[1]), cover]);
  }
}
