/**
 * Starts a throw-away PostgreSQL cluster (Debian's server binaries) in a
 * temporary folder on a free loopback port. Used by the test suite so that
 * `npm test` needs no running database; CI installs the binaries only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './util.ts';

export interface LocalPostgres {
  url: string;
  port: number;
  /** The cluster's data directory (it names the server's processes). */
  dataDir: string;
  stop(): Promise<void>;
}

function findBinDir(): string {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    /* fall through */
  }
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = join(base, v, 'bin');
      if (existsSync(join(dir, 'initdb'))) return dir;
    }
  }
  throw new Error('PostgreSQL server binaries not found (install the Debian package "postgresql")');
}

/** initdb and postgres refuse to run as root: run them as the postgres user then. */
function asPostgresUser(cmd: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['runuser', ['-u', 'postgres', '--', cmd, ...args]];
}

export async function startPostgres(): Promise<LocalPostgres> {
  const bin = findBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'os-conductor-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  if (root) execFileSync('chown', ['postgres', dir]);
  const [initCmd, initArgs] = asPostgresUser(join(bin, 'initdb'), [
    '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8',
  ]);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const [cmd, args] = asPostgresUser(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=200', '-c', 'shared_buffers=256MB',
  ]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  await waitFor(
    () => {
      try {
        execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
        return true;
      } catch {
        if (child.exitCode !== null) throw new Error(`postgres exited: ${stderr}`);
        return false;
      }
    },
    20_000,
    'postgres',
  );
  return {
    url,
    port,
    dataDir: data,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        // runuser does not forward signals: stop the postmaster itself.
        const [stopCmd, stopArgs] = asPostgresUser(join(bin, 'pg_ctl'), ['-D', data, 'stop', '-m', 'immediate']);
        try {
          execFileSync(stopCmd, stopArgs, { stdio: 'ignore' });
        } catch {
          child.kill('SIGKILL');
        }
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
