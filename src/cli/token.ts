/** `npm run token -- --role R --tenant T [--doctor ID] [--patient ID] [--sub S] [--expires 8h]` */
import { signToken } from '../auth/tokens.js';
import { loadConfig } from '../config.js';
import { runCli } from './cliArgs.js';
import { parseTokenArgs, TOKEN_USAGE } from './tokenArgs.js';

runCli('token', async () => {
  const request = parseTokenArgs(process.argv.slice(2));
  if (request.kind === 'help') {
    process.stdout.write(TOKEN_USAGE);
    return;
  }
  const config = loadConfig();
  const token = await signToken(request.claims, config.jwt, request.expiresIn);
  process.stdout.write(`${token}\n`);
});
