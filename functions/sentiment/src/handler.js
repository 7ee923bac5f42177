// An AFINN-165 sentiment score of the body's English text (the sentiment
// package): {score, comparative, positive, negative}. score > 0 is positive.
import Sentiment from 'sentiment';

const analyser = new Sentiment();
const MAX_TEXT = 100_000;

export default async function handle(req) {
  const text = typeof req.body === 'string' ? req.body : (req.rawBody ?? Buffer.alloc(0)).toString('utf8');
  if (text.length > MAX_TEXT) return { status: 413, headers: { 'content-type': 'text/plain' }, body: `at most ${MAX_TEXT} characters\n` };
  const result = analyser.analyze(text);
  return { status: 200, body: { score: result.score, comparative: Number(result.comparative.toFixed(4)), positive: result.positive, negative: result.negative } };
}
