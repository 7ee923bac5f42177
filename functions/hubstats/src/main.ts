/** Classic mode: the user name on stdin, the answer on stdout; a failure exits 1 with the reason on stderr (the watchdog answers 500 with it). */
import { hubConfigFromEnv, hubstats } from './hubstats.js';

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) {
  if (input.length < 1024) input += chunk;
}
const result = await hubstats(input, hubConfigFromEnv(process.env));
if (result.ok) process.stdout.write(result.text);
else {
  process.stderr.write(`hubstats: ${result.error}\n`);
  process.exitCode = 1;
}
