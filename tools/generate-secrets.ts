/**
 * npm run secrets:generate — a fresh RSA key pair plus the OAuth client id
 * and secret, packed into the four OS_CONDUCTOR_SECRETS_n lines the service
 * (and the original os-conductor) reads. Output goes to stdout, ready for
 * `.env` or `wrangler secret put`; nothing is written to disk.
 */
import { pathToFileURL } from 'node:url';
import { encodeSecrets, generateRsaKeyPair } from './lib/secrets.ts';

const USAGE = `Usage: npm run secrets:generate -- [--client-id ID] [--client-secret SECRET]

Prints OS_CONDUCTOR_SECRETS_0..3 for a freshly generated RSA key pair (RS256
token signing) and the OAuth client of the login provider (stored as
google.key / google.secret.key). Without --client-id/--client-secret the
client fields are empty and OS_OIDC_CLIENT_ID / OS_OIDC_CLIENT_SECRET must be
set instead.

Options:
  --client-id ID          OAuth client id (Google or another OIDC provider)
  --client-secret SECRET  OAuth client secret
  --help                  show this help`;

export interface GenerateOptions {
  clientId: string;
  clientSecret: string;
}

/** Parses argv; throws with a message for unknown or incomplete options. */
export function parseArgs(argv: string[]): GenerateOptions | 'help' {
  const out: GenerateOptions = { clientId: '', clientSecret: '' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (name !== '--client-id' && name !== '--client-secret') throw new Error(`unknown option ${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new Error(`${name} needs a value`);
    if (name === '--client-id') out.clientId = value;
    else out.clientSecret = value;
  }
  return out;
}

/** The four `OS_CONDUCTOR_SECRETS_n=...` lines for a new key pair. */
export function generateSecretLines(options: GenerateOptions): string[] {
  const keys = generateRsaKeyPair();
  const env = encodeSecrets({
    'private.pem': keys.privatePem,
    'public.pem': keys.publicPem,
    'google.key': options.clientId,
    'google.secret.key': options.clientSecret,
  });
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function main(): void {
  let options: GenerateOptions | 'help';
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  if (!options.clientId || !options.clientSecret) {
    console.error('note: no OAuth client given; set OS_OIDC_CLIENT_ID and OS_OIDC_CLIENT_SECRET instead');
  }
  console.log(generateSecretLines(options).join('\n'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
