/** Classic mode: the body on stdin goes to a new file under STASH_DIR; the answer is its name. */
import { stashBody } from './stash.js';

const dir = process.env.STASH_DIR ?? '/home/app/data';
try {
  const name = await stashBody(process.stdin, dir);
  process.stdout.write(`${name}\n`);
} catch (err) {
  process.stderr.write(`webhookstash: cannot store the body under ${dir}: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
