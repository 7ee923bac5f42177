/**
 * The markdown function's long-running HTTP server (the watchdog proxies to
 * it in HTTP mode): any request's body, as Markdown, answered as HTML.
 */
import { createServer, type Server } from 'node:http';
import { renderMarkdown } from './render.js';

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function createMarkdownServer(): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`markdown: the body is larger than ${MAX_BODY_BYTES} bytes\n`);
        return;
      }
      const html = renderMarkdown(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
      res.end(html);
    });
  });
}
