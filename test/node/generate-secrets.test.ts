import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeSecrets } from '../../tools/lib/secrets.ts';

const run = promisify(execFile);
const TSX = ['node_modules/.bin/tsx', 'tools/generate-secrets.ts'];

async function generate(...args: string[]) {
  return run(TSX[0] as string, [TSX[1] as string, ...args], { cwd: process.cwd() });
}

function parseLines(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

describe('npm run secrets:generate', () => {
  it('prints four OS_CONDUCTOR_SECRETS_n lines holding a working RSA pair and the OAuth client', async () => {
    const { stdout } = await generate('--client-id', 'my-client.apps', '--client-secret=s3cr3t');
    const env = parseLines(stdout);
    expect(Object.keys(env)).toEqual([0, 1, 2, 3].map((i) => `OS_CONDUCTOR_SECRETS_${i}`));
    const secrets = decodeSecrets(env);
    expect(secrets['google.key']).toBe('my-client.apps');
    expect(secrets['google.secret.key']).toBe('s3cr3t');
    const data = Buffer.from('payload');
    const signature = sign('sha256', data, createPrivateKey(secrets['private.pem']));
    expect(verify('sha256', data, createPublicKey(secrets['public.pem']), signature)).toBe(true);
  });

  it('makes a new key pair on every run', async () => {
    const [a, b] = await Promise.all([generate('--client-id', 'x', '--client-secret', 'y'), generate('--client-id', 'x', '--client-secret', 'y')]);
    expect(decodeSecrets(parseLines(a.stdout))['private.pem']).not.toBe(decodeSecrets(parseLines(b.stdout))['private.pem']);
  });

  it('prints usage with --help', async () => {
    const { stdout } = await generate('--help');
    expect(stdout).toContain('Usage: npm run secrets:generate');
    expect(stdout).toContain('--client-id');
  });

  it('refuses an unknown option or a missing value with exit code 2', async () => {
    for (const args of [['--nope'], ['--client-id']]) {
      await expect(generate(...args)).rejects.toMatchObject({ code: 2 });
    }
  });
});
