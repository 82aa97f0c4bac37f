/**
 * What the test suite needs from the machine, and the pure decision of what
 * to do about it. No I/O here: `probe.ts` finds out what is present and runs
 * the steps; this file only turns requirements + facts into a plan, so every
 * case (missing binary, no privilege, CI, opt-outs) is testable with fake facts.
 */

/** Tests that a requirement exists for can be skipped on purpose with NAME=value (never in CI). */
export interface SkipSwitch {
  env: string;
  value: string;
  /** What the switch skips, e.g. "the ElasticSearch tests". */
  skips: string;
}

interface Common {
  /** Unique; `needs` of other requirements refer to it. */
  name: string;
  /** Why the suite needs it (shown when it is missing). */
  reason: string;
  /** An environment variable whose presence makes the requirement unnecessary (e.g. an external database URL). */
  replacedBy?: string;
  skip?: SkipSwitch;
}

/** A program from the system's package manager. */
export interface BinaryRequirement extends Common {
  kind: 'binary';
  /** Program looked for on PATH, then in `alsoIn`. */
  binary: string;
  /** More folders to look in; a `*` segment matches any one folder name (e.g. /usr/lib/postgresql/{star}/bin). */
  alsoIn?: string[];
  /** An environment variable naming the program's path; when set, only that path counts. */
  pathEnv?: string;
  /** A command that must also succeed (e.g. a module the program needs), argv form. */
  check?: string[];
  /** Debian packages that provide it. */
  apt: string[];
}

/** Something built inside the repo by code of its own (e.g. the OpenSearch launcher through Maven). */
export interface BuildRequirement extends Common {
  kind: 'build';
  /** Requirements that must be present before building. */
  needs: string[];
  isBuilt(): boolean;
  build(log: (line: string) => void): Promise<void>;
}

/** A Python virtual environment inside the repo with pinned packages. */
export interface VenvRequirement extends Common {
  kind: 'venv';
  /** Repo-relative folder, e.g. .cache/venv/schemathesis. */
  dir: string;
  /** pip requirement specifiers, pinned (e.g. schemathesis==3.39.16). */
  packages: string[];
  /** The interpreter that creates it (default python3). */
  python?: string;
  needs: string[];
}

/** A self-contained set-up script of the repo: present when `check` exits 0, else `run` sets it up. */
export interface ScriptRequirement extends Common {
  kind: 'script';
  check: string[];
  run: string[];
  needs: string[];
}

export type Requirement = BinaryRequirement | BuildRequirement | VenvRequirement | ScriptRequirement;

export type Privilege = 'root' | 'sudo' | 'none';

export interface Facts {
  /** Names of the requirements already satisfied on this machine. */
  present: ReadonlySet<string>;
  env: Readonly<Record<string, string | undefined>>;
  /** root, passwordless sudo, or neither (only asked when something is missing). */
  privilege: Privilege;
  /** apt-get is on this machine. */
  apt: boolean;
}

export type Step =
  | { kind: 'apt'; packages: string[]; commands: string[][] }
  | { kind: 'build'; requirement: string }
  | { kind: 'venv'; requirement: string; dir: string; packages: string[]; commands: string[][] }
  | { kind: 'script'; requirement: string; commands: string[][] };

export interface Plan {
  /** Requirements the run needs (after replacements and skips). */
  needed: string[];
  /** To run in order; empty when everything is present. */
  steps: Step[];
  /** Why the run cannot go on, each with what to do; non-empty means stop with a non-zero exit. */
  problems: string[];
  /** Skips and replacements, to print. */
  notes: string[];
}

const APT_ENV = ['env', 'DEBIAN_FRONTEND=noninteractive'];

export function aptCommands(packages: string[], privilege: Privilege): string[][] {
  const prefix = privilege === 'sudo' ? ['sudo', '-n', ...APT_ENV] : APT_ENV;
  return [
    [...prefix, 'apt-get', 'update', '-q'],
    // Waits for another apt run (e.g. unattended upgrades) instead of failing at once.
    [...prefix, 'apt-get', 'install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', '--no-install-recommends', ...packages],
  ];
}

/** What a person without passwordless sudo types. */
export function manualAptLine(packages: string[]): string {
  return `sudo apt-get update && ${shellLine(['sudo', 'apt-get', 'install', '-y', '--no-install-recommends', ...packages])}`;
}

/** The line a person types, for messages. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function venvCommands(r: VenvRequirement): string[][] {
  const create = [r.python ?? 'python3', '-m', 'venv', r.dir];
  // Seeding pip takes most of venv's time: skip it when there is nothing to install.
  if (r.packages.length === 0) return [[...create, '--without-pip']];
  return [create, [`${r.dir}/bin/pip`, 'install', '--disable-pip-version-check', '-q', ...r.packages]];
}

export function plan(requirements: readonly Requirement[], facts: Facts): Plan {
  const ci = facts.env.CI === 'true';
  const byName = new Map(requirements.map((r) => [r.name, r]));
  const notes = new Set<string>();
  // Sets: requirements sharing a skip switch or a package give one line.
  const problems = new Set<string>();
  const needed: Requirement[] = [];

  for (const r of requirements) {
    if (r.replacedBy && facts.env[r.replacedBy]) {
      notes.add(`${r.name}: not needed, ${r.replacedBy} is set`);
      continue;
    }
    if (r.skip && facts.env[r.skip.env] === r.skip.value) {
      const line = `${r.skip.env}=${r.skip.value}`;
      if (ci) problems.add(`CI=true: ${line} would skip ${r.skip.skips}, and CI skips nothing; unset ${r.skip.env}`);
      else notes.add(`${r.skip.skips} are skipped (${line}); unset ${r.skip.env} to run them`);
      continue;
    }
    needed.push(r);
  }
  const neededNames = new Set(needed.map((r) => r.name));
  for (const r of needed) {
    for (const n of 'needs' in r ? r.needs : []) {
      if (!byName.has(n)) throw new Error(`requirement ${r.name} needs ${n}, which is not in the list`);
      if (!neededNames.has(n)) throw new Error(`requirement ${r.name} needs ${n}, which is skipped or replaced while ${r.name} is not`);
    }
  }

  const missing = needed.filter((r) => !facts.present.has(r.name));
  // A path set by hand that names no program: installing a package would not change that.
  const badOverride = (r: Requirement): boolean => r.kind === 'binary' && !!r.pathEnv && !!facts.env[r.pathEnv];
  for (const r of missing) {
    if (r.kind === 'binary' && badOverride(r)) {
      problems.add(`${r.pathEnv}=${facts.env[r.pathEnv!]} names no program: needed for ${r.reason}; unset ${r.pathEnv} or point it to ${r.binary}`);
    }
  }
  const missingBinaries = missing.filter((r): r is BinaryRequirement => r.kind === 'binary' && !badOverride(r));
  const packages = [...new Set(missingBinaries.flatMap((r) => r.apt))];
  const steps: Step[] = [];
  const canInstall = facts.apt && facts.privilege !== 'none';
  if (packages.length > 0) {
    if (canInstall) {
      steps.push({ kind: 'apt', packages, commands: aptCommands(packages, facts.privilege) });
    } else {
      for (const r of missingBinaries) {
        problems.add(`${r.binary} not found: needed for ${r.reason} (Debian package ${r.apt.join(', ')})`);
      }
      const how = facts.apt
        ? `Install ${packages.length > 1 ? 'them' : 'it'} (needs root), then run the tests again:\n  ${manualAptLine(packages)}`
        : `This machine has no apt-get: install the equivalent of the Debian packages ${packages.join(' ')} with its package manager.`;
      problems.add(how);
    }
  }
  // Builds and venvs run after the apt step; those waiting for a binary that cannot be installed say so.
  const blocked = new Set(missing.filter((r) => badOverride(r) || (!canInstall && r.kind === 'binary')).map((r) => r.name));
  for (const r of missing) {
    if (r.kind === 'binary') continue;
    const waits = r.needs.filter((n) => blocked.has(n));
    if (waits.length > 0) {
      problems.add(`${r.name} (${r.reason}) is built once ${waits.join(', ')} ${waits.length > 1 ? 'are' : 'is'} installed`);
      continue;
    }
    if (r.kind === 'build') steps.push({ kind: 'build', requirement: r.name });
    else if (r.kind === 'venv') steps.push({ kind: 'venv', requirement: r.name, dir: r.dir, packages: r.packages, commands: venvCommands(r) });
    else steps.push({ kind: 'script', requirement: r.name, commands: [r.run] });
  }
  const stuck = missing.filter((r) => blocked.has(r.name) || ('needs' in r && r.needs.some((n) => blocked.has(n))));
  const skippable = [...new Map(stuck.flatMap((r) => (r.skip ? [[r.skip.env, r.skip] as const] : []))).values()];
  if (problems.size > 0 && !ci) {
    for (const s of skippable) problems.add(`Or run without ${s.skips}: ${s.env}=${s.value} npm test`);
  }
  return { needed: needed.map((r) => r.name), steps, problems: [...problems], notes: [...notes] };
}

/** The steps as shell lines, for the log. */
export function describeStep(step: Step): string {
  if (step.kind === 'build') return `build ${step.requirement}`;
  return step.commands.map(shellLine).join(' && ');
}
