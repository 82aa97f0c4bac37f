/**
 * What `npm test` needs from the machine. Add an entry here (see the kinds in
 * plan.ts) and the test setup installs or builds it when missing, or names
 * the command that does.
 */
import { buildLauncher, launcherUpToDate } from '../services/opensearch.ts';
import { buildVersitygw, versitygwBuilt } from '../services/versitygw.ts';
import type { Requirement, SkipSwitch } from './plan.ts';

const SKIP_OPENSEARCH: SkipSwitch = { env: 'OS_TEST_SKIP_OPENSEARCH', value: '1', skips: 'the ElasticSearch tests' };

export const TEST_REQUIREMENTS: Requirement[] = [
  {
    kind: 'binary',
    name: 'postgresql',
    binary: 'initdb',
    alsoIn: ['/usr/lib/postgresql/*/bin'],
    apt: ['postgresql'],
    reason: 'the throw-away PostgreSQL cluster of the tests',
    replacedBy: 'OS_TEST_DATABASE_URL',
  },
  {
    kind: 'binary',
    name: 'redis',
    binary: 'redis-server',
    apt: ['redis-server'],
    reason: "the Redis standing in for os-api's cache",
  },
  {
    kind: 'binary',
    name: 'chromium',
    binary: 'chromium',
    pathEnv: 'OS_TEST_CHROMIUM',
    apt: ['chromium'],
    reason: 'the browser login test (test/node/browser-login.test.ts)',
  },
  {
    kind: 'binary',
    name: 'jdk',
    // A JDK, not only a JRE: javac builds the launcher.
    binary: 'javac',
    apt: ['openjdk-17-jdk-headless'],
    reason: 'the OpenSearch test node (Java 17+)',
    skip: SKIP_OPENSEARCH,
  },
  {
    kind: 'binary',
    name: 'maven',
    binary: 'mvn',
    apt: ['maven'],
    reason: "building the OpenSearch test node's launcher",
    skip: SKIP_OPENSEARCH,
  },
  {
    kind: 'build',
    name: 'opensearch-launcher',
    needs: ['jdk', 'maven'],
    reason: 'the OpenSearch test node (Maven artifacts into .cache/m2)',
    isBuilt: () => launcherUpToDate(2),
    build: (log) => buildLauncher(log, 2),
    skip: SKIP_OPENSEARCH,
  },
  {
    kind: 'build',
    name: 'opensearch1-launcher',
    needs: ['jdk', 'maven'],
    reason: "the OpenSearch 1.3 test node (typed URLs, as os-api's client reads them)",
    isBuilt: () => launcherUpToDate(1),
    build: (log) => buildLauncher(log, 1),
    skip: SKIP_OPENSEARCH,
  },
  {
    kind: 'binary',
    name: 'go',
    binary: 'go',
    alsoIn: ['/usr/local/go/bin'],
    // Debian's Go is older than versitygw asks for; Go 1.21 and later fetch the toolchain it names from the module proxy.
    apt: ['golang-go'],
    reason: 'building the multipart S3 test server (versitygw)',
  },
  {
    kind: 'build',
    name: 'versitygw',
    needs: ['go'],
    reason: 'the S3 test server with multipart (ListParts, Abort, ListMultipartUploads) for test/datastore/multipart-endpoints.test.ts',
    isBuilt: versitygwBuilt,
    build: buildVersitygw,
  },
  {
    kind: 'binary',
    name: 'python3-venv',
    binary: 'python3',
    check: ['python3', '-c', 'import venv, ensurepip'],
    apt: ['python3', 'python3-venv'],
    reason: "the Python venvs of the tests (os-api's registry client, schemathesis)",
  },
  {
    kind: 'script',
    name: 'os-package-registry',
    // The script itself re-makes the venv when its pins or the interpreter change.
    check: ['test', '-x', '.cache/python-registry/bin/python'],
    run: ['bash', 'tools/services/python-registry.sh'],
    needs: ['python3-venv'],
    reason: "os-api's own registry client (test/node/os-package-registry.test.ts)",
  },
  {
    kind: 'script',
    name: 'schemathesis',
    // Like the registry client's, the script re-makes its venv when the pin changes.
    check: ['test', '-x', '.cache/schemathesis-venv/bin/schemathesis'],
    run: ['bash', 'tools/schemathesis-venv.sh'],
    needs: ['python3-venv'],
    reason: 'the OpenAPI conformance run (test/node/openapi-conformance.test.ts)',
  },
];
