// The body's text as ASCII art (FIGlet's Standard font, read from the bundle:
// figlet's own font loading reads files next to its module).
import figlet from 'figlet';
import standard from 'figlet/importable-fonts/Standard.js';

figlet.parseFont('Standard', standard);
const MAX_TEXT = 200;

export default async function handle(req) {
  const text = (typeof req.body === 'string' ? req.body : (req.rawBody ?? Buffer.alloc(0)).toString('utf8')).trim();
  if (!text) return { status: 400, headers: { 'content-type': 'text/plain' }, body: 'send some text as the body\n' };
  if (text.length > MAX_TEXT) return { status: 413, headers: { 'content-type': 'text/plain' }, body: `at most ${MAX_TEXT} characters\n` };
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${figlet.textSync(text, { font: 'Standard' })}\n` };
}
