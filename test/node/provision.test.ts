/**
 * The provisioning decisions (tools/provision/plan.ts) on fake machines, and
 * the I/O side (provision.ts) on a real one with a narrowed PATH and
 * requirements of the test's own, so nothing gets installed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { plan, type BinaryRequirement, type Facts, type Requirement } from '../../tools/provision/plan.ts';
import { findBinary, inspect, provision, ProvisionError } from '../../tools/provision/provision.ts';
import { TEST_REQUIREMENTS } from '../../tools/provision/requirements.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = { env: 'OS_TEST_SKIP_OPENSEARCH', value: '1', skips: 'the ElasticSearch tests' };
const REQS: Requirement[] = [
  { kind: 'binary', name: 'postgresql', binary: 'initdb', apt: ['postgresql'], reason: 'the test database', replacedBy: 'OS_TEST_DATABASE_URL' },
  { kind: 'binary', name: 'redis', binary: 'redis-server', apt: ['redis-server'], reason: 'the cache' },
  { kind: 'binary', name: 'jdk', binary: 'javac', apt: ['openjdk-17-jdk-headless'], reason: 'OpenSearch', skip: SKIP },
  { kind: 'binary', name: 'maven', binary: 'mvn', apt: ['maven'], reason: 'the launcher', skip: SKIP },
  { kind: 'build', name: 'launcher', needs: ['jdk', 'maven'], reason: 'OpenSearch', skip: SKIP, isBuilt: () => false, build: async () => {} },
  { kind: 'binary', name: 'python', binary: 'python3', apt: ['python3', 'python3-venv'], reason: 'venvs' },
  { kind: 'venv', name: 'st', dir: '.cache/venv/st', packages: ['schemathesis==1.0'], needs: ['python'], reason: 'API fuzzing' },
];
const ALL = new Set(REQS.map((r) => r.name));
const without = (...names: string[]): Set<string> => new Set([...ALL].filter((n) => !names.includes(n)));
const facts = (over: Partial<Facts>): Facts => ({ present: ALL, env: {}, privilege: 'root', apt: true, ...over });

describe('provisioning decisions', () => {
  it('does nothing when everything is present', () => {
    expect(plan(REQS, facts({ privilege: 'none' }))).toEqual({ needed: [...ALL], steps: [], problems: [], notes: [] });
  });

  it('installs missing binaries with one apt-get update and one install, as root or with sudo', () => {
    const root = plan(REQS, facts({ present: without('postgresql', 'redis') }));
    expect(root.problems).toEqual([]);
    expect(root.steps).toEqual([
      {
        kind: 'apt',
        packages: ['postgresql', 'redis-server'],
        commands: [
          ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'],
          ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', '--no-install-recommends', 'postgresql', 'redis-server'],
        ],
      },
    ]);
    const sudo = plan(REQS, facts({ present: without('redis'), privilege: 'sudo' }));
    expect(sudo.steps[0]).toMatchObject({ commands: [['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'], expect.anything()] });
  });

  it('builds after installing what the build needs, and builds alone when only the build is missing', () => {
    const both = plan(REQS, facts({ present: without('maven', 'launcher') }));
    expect(both.steps.map((s) => s.kind)).toEqual(['apt', 'build']);
    expect(both.steps[0]).toMatchObject({ packages: ['maven'] });
    expect(plan(REQS, facts({ present: without('launcher'), privilege: 'none' })).steps).toEqual([{ kind: 'build', requirement: 'launcher' }]);
  });

  it('creates a missing venv without privilege', () => {
    const p = plan(REQS, facts({ present: without('st'), privilege: 'none', apt: false }));
    expect(p.problems).toEqual([]);
    expect(p.steps).toEqual([
      {
        kind: 'venv',
        requirement: 'st',
        dir: '.cache/venv/st',
        packages: ['schemathesis==1.0'],
        commands: [
          ['python3', '-m', 'venv', '.cache/venv/st'],
          ['.cache/venv/st/bin/pip', 'install', '--disable-pip-version-check', '-q', 'schemathesis==1.0'],
        ],
      },
    ]);
  });

  it('without root or sudo names each missing program and the exact command, and plans nothing', () => {
    const p = plan(REQS, facts({ present: without('postgresql', 'jdk', 'launcher'), privilege: 'none' }));
    expect(p.steps).toEqual([]);
    expect(p.problems).toEqual([
      'initdb not found: needed for the test database (Debian package postgresql)',
      'javac not found: needed for OpenSearch (Debian package openjdk-17-jdk-headless)',
      'Install them (needs root), then run the tests again:\n' +
        '  sudo apt-get update && sudo apt-get install -y --no-install-recommends postgresql openjdk-17-jdk-headless',
      'launcher (OpenSearch) is built once jdk is installed',
      'Or run without the ElasticSearch tests: OS_TEST_SKIP_OPENSEARCH=1 npm test',
    ]);
  });

  it('offers the skip switch only when what it skips is stuck', () => {
    const p = plan(REQS, facts({ present: without('redis', 'launcher'), privilege: 'none' }));
    expect(p.steps).toEqual([{ kind: 'build', requirement: 'launcher' }]);
    expect(p.problems.join('\n')).not.toMatch(/run without/);
  });

  it('a path set by hand that names no program is an error, not an install', () => {
    const browser: Requirement = { kind: 'binary', name: 'chromium', binary: 'chromium', pathEnv: 'OS_TEST_CHROMIUM', apt: ['chromium'], reason: 'the browser test' };
    const p = plan([browser], facts({ present: new Set(), env: { OS_TEST_CHROMIUM: '/opt/nothing' } }));
    expect(p.steps).toEqual([]);
    expect(p.problems).toEqual([
      'OS_TEST_CHROMIUM=/opt/nothing names no program: needed for the browser test; unset OS_TEST_CHROMIUM or point it to chromium',
    ]);
  });

  it('without apt-get names the Debian packages to find equivalents of', () => {
    const p = plan(REQS, facts({ present: without('redis'), apt: false }));
    expect(p.steps).toEqual([]);
    expect(p.problems).toEqual([
      'redis-server not found: needed for the cache (Debian package redis-server)',
      'This machine has no apt-get: install the equivalent of the Debian packages redis-server with its package manager.',
    ]);
  });

  it('skips on request outside CI and says how to undo it; in CI the same switch is an error', () => {
    const env = { OS_TEST_SKIP_OPENSEARCH: '1' };
    const local = plan(REQS, facts({ present: without('jdk', 'maven', 'launcher'), env, privilege: 'none' }));
    expect(local.steps).toEqual([]);
    expect(local.problems).toEqual([]);
    expect(local.needed).not.toContain('jdk');
    expect(local.notes).toEqual(['the ElasticSearch tests are skipped (OS_TEST_SKIP_OPENSEARCH=1); unset OS_TEST_SKIP_OPENSEARCH to run them']);
    const ci = plan(REQS, facts({ env: { ...env, CI: 'true' } }));
    expect(ci.needed).not.toContain('jdk');
    expect(ci.problems).toEqual([
      'CI=true: OS_TEST_SKIP_OPENSEARCH=1 would skip the ElasticSearch tests, and CI skips nothing; unset OS_TEST_SKIP_OPENSEARCH',
    ]);
  });

  it('in CI never offers a skip as a way out', () => {
    const p = plan(REQS, facts({ present: without('jdk'), env: { CI: 'true' }, privilege: 'none' }));
    expect(p.problems.length).toBeGreaterThan(0);
    expect(p.problems.join('\n')).not.toMatch(/run without/);
  });

  it('leaves out a requirement another setting replaces', () => {
    const p = plan(REQS, facts({ present: without('postgresql'), env: { OS_TEST_DATABASE_URL: 'postgresql://db/x' }, privilege: 'none' }));
    expect(p).toMatchObject({ steps: [], problems: [], notes: ['postgresql: not needed, OS_TEST_DATABASE_URL is set'] });
  });

  it("refuses a list whose needs name nothing or something skipped while the dependant is not", () => {
    const bad: Requirement[] = [{ kind: 'venv', name: 'v', dir: 'v', packages: [], needs: ['nope'], reason: '' }];
    expect(() => plan(bad, facts({}))).toThrow(/needs nope/);
    expect(() => plan([REQS[2]!, { ...REQS[4]!, skip: undefined }], facts({ env: { OS_TEST_SKIP_OPENSEARCH: '1' } }))).toThrow(/skipped or replaced/);
  });

  it('the suite list is consistent on a bare machine, outside and inside CI', () => {
    const bare = facts({ present: new Set(), privilege: 'none' });
    expect(() => plan(TEST_REQUIREMENTS, bare)).not.toThrow();
    expect(() => plan(TEST_REQUIREMENTS, { ...bare, env: { OS_TEST_SKIP_OPENSEARCH: '1', OS_TEST_DATABASE_URL: 'x' } })).not.toThrow();
  });
});

describe('provisioning on this machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const program = (path: string): string => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
    return path;
  };

  it('finds a program on PATH, in a versioned folder (newest first), or only at its override path', () => {
    const onPath = program(join(dir, 'bin', 'tool'));
    program(join(dir, 'lib', '9', 'bin', 'initdb'));
    const newest = program(join(dir, 'lib', '15', 'bin', 'initdb'));
    const env = { PATH: join(dir, 'bin') };
    expect(findBinary({ kind: 'binary', name: 't', binary: 'tool', apt: [], reason: '' }, env)).toBe(onPath);
    const pg: BinaryRequirement = { kind: 'binary', name: 'pg', binary: 'initdb', alsoIn: [join(dir, 'lib', '*', 'bin')], apt: [], reason: '' };
    expect(findBinary(pg, env)).toBe(newest);
    expect(findBinary(pg, { PATH: '' })).toBe(newest);
    const browser: BinaryRequirement = { kind: 'binary', name: 'c', binary: 'tool', pathEnv: 'BROWSER_PATH', apt: [], reason: '' };
    expect(findBinary(browser, { ...env, BROWSER_PATH: join(dir, 'nope') })).toBeNull();
    expect(findBinary(browser, { ...env, BROWSER_PATH: onPath })).toBe(onPath);
  });

  it('stops with the message when a program is missing and apt-get is out of reach', async () => {
    const missing: Requirement[] = [{ kind: 'binary', name: 'ghost', binary: 'no-such-program', apt: ['ghost-pkg'], reason: 'a test' }];
    const run = provision({ requirements: missing, env: { PATH: join(dir, 'bin') }, log: () => {} });
    await expect(run).rejects.toThrow(ProvisionError);
    await expect(run).rejects.toThrow(/no-such-program not found: needed for a test \(Debian package ghost-pkg\)/);
  });

  it('creates a venv inside the repo once, and plans it again when its package list changes', async () => {
    const rel = `.cache/provision-test-venv-${process.pid}`;
    const venv: Requirement = { kind: 'venv', name: 'venv', dir: rel, packages: [], needs: [], reason: 'a test' };
    try {
      const lines: string[] = [];
      await provision({ requirements: [venv], env: process.env, log: (l) => lines.push(l) });
      expect(lines).toEqual([expect.stringContaining(`-m venv ${rel} --without-pip`)]);
      lines.length = 0;
      await provision({ requirements: [venv], env: process.env, log: (l) => lines.push(l) });
      expect(lines).toEqual([]);
      const changed: Requirement = { ...venv, packages: ['schemathesis==1.0'] };
      expect(inspect([changed]).plan.steps).toMatchObject([{ kind: 'venv', packages: ['schemathesis==1.0'] }]);
    } finally {
      rmSync(join(REPO, rel), { recursive: true, force: true });
    }
  });

  it('npm run provision exits non-zero with the message on a machine without the programs or apt-get', () => {
    const bare = mkdtempSync(join(tmpdir(), 'provision-path-'));
    const cli = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'tools/provision/main.ts'], {
        cwd: REPO,
        env: { PATH: bare, HOME: tmpdir(), OS_TEST_DATABASE_URL: 'postgresql://db/x', ...env },
        encoding: 'utf8',
      });
    try {
      const local = cli({});
      expect(local.status).toBe(1);
      expect(local.stderr).toContain('redis-server not found');
      expect(local.stderr).toContain('This machine has no apt-get: install the equivalent of the Debian packages redis-server chromium');
      expect(local.stderr).toContain('Or run without the ElasticSearch tests: OS_TEST_SKIP_OPENSEARCH=1 npm test');
      const ci = cli({ CI: 'true', OS_TEST_SKIP_OPENSEARCH: '1' });
      expect(ci.status).toBe(1);
      expect(ci.stderr).toContain('CI=true: OS_TEST_SKIP_OPENSEARCH=1 would skip the ElasticSearch tests');
      expect(ci.stderr).not.toContain('Or run without');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('runs a set-up script when its check fails, then checks again', async () => {
    const marker = join(dir, 'set-up');
    const script: Requirement = { kind: 'script', name: 'thing', check: ['test', '-f', marker], run: ['touch', marker], needs: [], reason: 'a test' };
    const lines: string[] = [];
    await provision({ requirements: [script], env: process.env, log: (l) => lines.push(l) });
    expect(existsSync(marker)).toBe(true);
    expect(lines).toEqual([expect.stringContaining(`touch ${marker}`)]);
    const broken: Requirement = { ...script, name: 'broken', check: ['false'], run: ['true'] };
    await expect(provision({ requirements: [broken], env: process.env, log: () => {} })).rejects.toThrow(/broken is still missing/);
  });
});
