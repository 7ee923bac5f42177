/** nodeinfo's long-running HTTP server, proxied to by the watchdog in HTTP mode. */
import { createServer, type Server } from 'node:http';
import { answer } from './facts.js';

export function createNodeinfoServer(): Server {
  return createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (body.length < 1024) body += chunk; // only "verbose" matters
    });
    req.on('end', () => {
      const { type, text } = answer(body, req.headers.accept);
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
}
