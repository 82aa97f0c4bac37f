/**
 * The I/O side of provisioning: finds out which requirements are present,
 * asks plan.ts what to do, runs the steps (apt-get as root or with
 * passwordless sudo, builds, venvs) and checks the result. Called first by
 * the test global setup, so `npm test` and `npx vitest run <file>` both get it;
 * `npm run provision` runs it alone.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeStep, plan, shellLine, type BinaryRequirement, type Facts, type Plan, type Privilege, type Requirement, type Step } from './plan.ts';
import { TEST_REQUIREMENTS } from './requirements.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
type Env = Readonly<Record<string, string | undefined>>;

/** The suite cannot run here; the message says what is missing and the command that brings it. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Folders matching a pattern whose `*` segments match any one folder name; higher version numbers first. */
function expand(pattern: string): string[] {
  let found = [''];
  for (const segment of pattern.split('/').filter(Boolean)) {
    found = found.flatMap((base) => {
      if (segment !== '*') return [`${base}/${segment}`];
      try {
        return readdirSync(base || '/')
          .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
          .map((name) => `${base}/${name}`);
      } catch {
        return [];
      }
    });
  }
  return found;
}

/** Where the requirement's program is, or null. */
export function findBinary(r: BinaryRequirement, env: Env): string | null {
  const override = r.pathEnv ? env[r.pathEnv] : undefined;
  if (override) return isExecutable(override) ? override : null;
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...(r.alsoIn ?? []).flatMap(expand)];
  for (const dir of dirs) {
    const path = join(dir, r.binary);
    if (isExecutable(path)) return path;
  }
  return null;
}

function succeeds(argv: string[], env: Env): boolean {
  const [cmd, ...args] = argv;
  if (!cmd) return false;
  return spawnSync(cmd, args, { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: 'ignore' }).status === 0;
}

const stampFile = (dir: string): string => join(ROOT, dir, '.packages');

function isPresent(r: Requirement, env: Env): boolean {
  switch (r.kind) {
    case 'binary':
      return findBinary(r, env) !== null && (!r.check || succeeds(r.check, env));
    case 'build':
      return r.isBuilt();
    case 'venv':
      return (
        existsSync(join(ROOT, r.dir, 'bin', 'python')) &&
        existsSync(stampFile(r.dir)) &&
        readFileSync(stampFile(r.dir), 'utf8') === r.packages.join('\n')
      );
    case 'script':
      return succeeds(r.check, env);
  }
}

/** Asked only when something must be installed: `sudo -n` on a machine without sudo rights gets logged. */
function privilege(env: Env): Privilege {
  if (process.getuid?.() === 0) return 'root';
  const sudo = findBinary({ kind: 'binary', name: 'sudo', binary: 'sudo', apt: [], reason: '' }, env);
  return sudo && succeeds([sudo, '-n', 'true'], env) ? 'sudo' : 'none';
}

/** The facts of this machine and the plan for them. */
export function inspect(requirements: readonly Requirement[] = TEST_REQUIREMENTS, env: Env = process.env): { facts: Facts; plan: Plan } {
  const present = new Set(requirements.filter((r) => isPresent(r, env)).map((r) => r.name));
  const apt = findBinary({ kind: 'binary', name: 'apt-get', binary: 'apt-get', apt: [], reason: '' }, env) !== null;
  const facts: Facts = { present, env, apt, privilege: 'none' };
  const first = plan(requirements, facts);
  if (first.steps.length === 0 && first.problems.length === 0) return { facts, plan: first };
  const withPrivilege: Facts = { ...facts, privilege: privilege(env) };
  return { facts: withPrivilege, plan: plan(requirements, withPrivilege) };
}

async function run(step: Step, requirements: readonly Requirement[], env: Env, log: (line: string) => void): Promise<void> {
  if (step.kind === 'build') {
    const r = requirements.find((x) => x.name === step.requirement);
    if (r?.kind !== 'build') throw new Error(`no build requirement ${step.requirement}`);
    await r.build(log);
    return;
  }
  for (const [cmd, ...args] of step.commands) {
    if (!cmd) continue;
    const res = spawnSync(cmd, args, { cwd: ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    if (res.status !== 0) {
      throw new ProvisionError(`${shellLine([cmd, ...args])} failed (${res.error?.message ?? `exit ${res.status ?? res.signal}`})`);
    }
  }
  if (step.kind === 'venv') writeFileSync(stampFile(step.dir), step.packages.join('\n'));
}

function report(lines: string[]): string {
  return `The test suite cannot run on this machine yet:\n${lines.map((l) => `  - ${l.replace(/\n/g, '\n    ')}`).join('\n')}`;
}

/**
 * Brings what the suite needs, or throws a ProvisionError naming what is
 * missing and the command to run. Returns the paths of the programs found
 * (by requirement name), so the tests use the same ones.
 */
export async function provision(
  opts: { requirements?: readonly Requirement[]; env?: Env; log?: (line: string) => void } = {},
): Promise<Record<string, string>> {
  const requirements = opts.requirements ?? TEST_REQUIREMENTS;
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => console.log(line));
  const { facts, plan: todo } = inspect(requirements, env);
  for (const note of todo.notes) log(`provision: ${note}`);
  if (todo.problems.length > 0) throw new ProvisionError(report(todo.problems));
  for (const step of todo.steps) {
    log(`provision (${facts.privilege === 'sudo' ? 'with sudo' : facts.privilege}): ${describeStep(step)}`);
    await run(step, requirements, env, log);
  }
  const byName = new Map(requirements.map((r) => [r.name, r]));
  const needed = todo.needed.map((n) => byName.get(n)!);
  if (todo.steps.length > 0) {
    const still = needed.filter((r) => !isPresent(r, env));
    if (still.length > 0) throw new ProvisionError(report(still.map((r) => `${r.name} is still missing after the steps above (needed for ${r.reason})`)));
  }
  const paths: Record<string, string> = {};
  for (const r of needed) {
    const path = r.kind === 'binary' ? findBinary(r, env) : null;
    if (path) paths[r.name] = path;
  }
  return paths;
}
