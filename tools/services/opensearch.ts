/**
 * Starts a real single-node OpenSearch (the Java launcher in tools/opensearch,
 * run in-process by a JVM) on a loopback port, for tests: 2.19 by default, or
 * 1.3 (tools/opensearch/opensearch1), the last line that serves the typed
 * URLs os-api's client uses. Both builds share the launcher source.
 *
 * Needs Java 17+ and Maven. Maven's local repository is `.cache/m2` inside the
 * repo (ignored), so nothing is cached globally; once the artifacts are there
 * the build runs offline, and an up-to-date build is not redone at all.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './util.ts';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Maven's local repository: inside the repo, in an ignored folder. */
export const MAVEN_REPO = join(ROOT, '.cache', 'm2');
const SOURCE = join(ROOT, 'tools', 'opensearch', 'src', 'main', 'java', 'conductor', 'opensearch', 'OpenSearchLauncher.java');
const READY = /OPENSEARCH_READY port=(\d+)/;

/** Which OpenSearch line: 2 (2.19, typeless) or 1 (1.3, still serves typed URLs). */
export type OpenSearchLine = 1 | 2;

/** The Maven project of a line and the files its build leaves. */
function build(line: OpenSearchLine): { name: string; project: string; classpathFile: string; classFile: string } {
  const project = line === 2 ? join(ROOT, 'tools', 'opensearch') : join(ROOT, 'tools', 'opensearch', 'opensearch1');
  return {
    name: line === 2 ? 'OpenSearch 2.19' : 'OpenSearch 1.3',
    project,
    classpathFile: join(project, 'target', 'classpath.txt'),
    classFile: join(project, 'target', 'classes', 'conductor', 'opensearch', 'OpenSearchLauncher.class'),
  };
}

export interface LocalOpenSearch {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Why OpenSearch cannot be started here (Java 17+ or Maven missing), or null when it can. */
export function openSearchUnavailableReason(line: OpenSearchLine = 2): string | null {
  // `java -version` and the properties go to stderr.
  const java = spawnSync('java', ['-XshowSettings:properties', '-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) return 'java not found on PATH (OpenSearch tests need Java 17+)';
  const version = java.stderr;
  const match = /java\.specification\.version = (\d+)/.exec(version);
  if (match && Number(match[1]) < 17) return `java ${match[1]} found; the OpenSearch test launchers need Java 17+`;
  if (launcherUpToDate(line)) return null;
  try {
    execFileSync('mvn', ['-v'], { stdio: 'ignore' });
  } catch {
    return 'mvn (Maven) not found on PATH (needed to build the OpenSearch test launcher)';
  }
  if (spawnSync('javac', ['-version']).status !== 0) {
    return 'javac not found: building the OpenSearch test launcher needs a JDK 17+ (e.g. openjdk-17-jdk-headless), not only a JRE';
  }
  return null;
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

/** The launcher is built and every jar of its classpath is present. */
export function launcherUpToDate(line: OpenSearchLine = 2): boolean {
  const b = build(line);
  // Maven leaves the class file alone when only the pom changed; the classpath file is rewritten each build.
  if (mtime(b.classFile) < mtime(SOURCE) || mtime(b.classpathFile) < mtime(join(b.project, 'pom.xml'))) return false;
  return readFileSync(b.classpathFile, 'utf8')
    .trim()
    .split(':')
    .every((jar) => existsSync(jar));
}

/**
 * Compiles the launcher and writes its classpath. Offline first (artifacts
 * already in .cache/m2), online (Maven Central) when that fails.
 */
export async function buildLauncher(log: (line: string) => void = () => {}, line: OpenSearchLine = 2): Promise<void> {
  if (launcherUpToDate(line)) return;
  const b = build(line);
  const args = ['-B', '-q', `-Dmaven.repo.local=${MAVEN_REPO}`, '-f', join(b.project, 'pom.xml'), 'compile'];
  try {
    await run('mvn', ['-o', ...args], { maxBuffer: 16 * 1024 * 1024 });
    return;
  } catch {
    log(`${b.name} launcher: resolving Maven artifacts (first run downloads ~100 MB into .cache/m2)`);
  }
  try {
    await run('mvn', args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`building the ${b.name} launcher failed: ${e.message}\n${(e.stdout ?? '').slice(-4000)}`);
  }
}

/**
 * Starts OpenSearch of `line` (2 when omitted) on `port` (a free loopback
 * port when omitted) and waits until the cluster health is green or yellow.
 */
export async function startOpenSearch(
  opts: {
    port?: number;
    timeoutMs?: number;
    log?: (line: string) => void;
    line?: OpenSearchLine;
    heapMb?: number;
    /** The JVM's default tiered JIT (C2 included), as a production node runs; benchmarks want it. */
    fullJit?: boolean;
  } = {},
): Promise<LocalOpenSearch> {
  const line = opts.line ?? 2;
  await buildLauncher(opts.log, line);
  const b = build(line);
  const port = opts.port ?? (await freePort());
  const classpath = `${join(b.project, 'target', 'classes')}:${readFileSync(b.classpathFile, 'utf8').trim()}`;
  const heap = `${opts.heapMb ?? 512}m`;
  // stdin stays open: the launcher stops itself when it closes (our process died).
  // C1-only JIT: starts in about half the time on 2 busy cores; test load needs no peak speed.
  const jit = opts.fullJit ? [] : ['-XX:TieredStopAtLevel=1'];
  const child: ChildProcess = spawn(
    'java',
    ['-Xms256m', `-Xmx${heap}`, '-XX:+UseSerialGC', ...jit, '-cp', classpath, 'conductor.opensearch.OpenSearchLauncher', String(port)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  // Keep only the tail of the node's log, to explain a failed start.
  let output = '';
  let ready = false;
  const collect = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
    if (READY.test(output)) ready = true;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${b.name} exited (code ${child.exitCode}):\n${output.slice(-4000)}`);
        if (!ready) return false;
        try {
          const res = await fetch(`${url}/_cluster/health`);
          if (!res.ok) return false;
          const health = (await res.json()) as { status?: string };
          return health.status === 'green' || health.status === 'yellow';
        } catch {
          return false;
        }
      },
      opts.timeoutMs ?? 180_000,
      `${b.name} on port ${port}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, stop };
}
