/** Listens where the watchdog expects it: the port of upstream_url (default 3000), on loopback only. */
import { createMarkdownServer } from './server.js';

const upstream = new URL(process.env.upstream_url ?? 'http://127.0.0.1:3000');
createMarkdownServer().listen(Number(upstream.port || 80), upstream.hostname);
process.on('SIGTERM', () => process.exit(0));
