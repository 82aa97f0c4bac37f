/**
 * npm run tools:remove-package -- <id...> [--index <name>] [--registry]
 *
 * Removes packages from the search index, like the original
 * remove_package tool; with --registry also from the Postgres registry (the
 * fact tables and datastore files stay).
 */
import { deletePackage } from '../src/registry/registry.ts';
import { deleteDocument, target } from '../src/search/elasticsearch/index.ts';
import { connectNode, type NodeDb } from './lib/db.ts';
import { progressBar } from './lib/progress.ts';
import { databaseUrl, indexSettings } from './lib/search-index.ts';

const HELP = `Usage: npm run tools:remove-package -- <id...> [--index <name>] [--registry]

Removes the packages with these ids (<owner>:<name>) from the search index
OS_ES_PACKAGES_INDEX_NAME at OS_ELASTICSEARCH_ADDRESS (.env is read).

  --index <name>  the index or alias to remove them from (default: the configured one)
  --registry      also delete their registry rows in OS_CONDUCTOR_ENGINE, so a
                  reindex does not bring them back (fact tables and files stay)
  --help          this text`;

interface Args {
  ids: string[];
  index?: string;
  registry: boolean;
}

/** Parses the command line; throws with a message on bad input. */
function parseArgs(argv: string[]): Args {
  const out: Args = { ids: [], registry: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--registry') out.registry = true;
    else if (a === '--index') {
      const name = argv[++i];
      if (!name || name.startsWith('--')) throw new Error('--index needs an index name');
      out.index = name;
    } else if (a.startsWith('--index=')) out.index = a.slice('--index='.length);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a} (see --help)`);
    else if (!/^[^:\s]+:[^\s]+$/.test(a)) throw new Error(`not a package id (<owner>:<name>): ${a}`);
    else out.ids.push(a);
  }
  if (out.ids.length === 0) throw new Error('no package id given (see --help)');
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const args = parseArgs(argv);
  const settings = indexSettings();
  const t = target(settings.url, args.index ?? settings.index);
  let db: NodeDb | undefined;
  if (args.registry) db = await connectNode(databaseUrl());
  const bar = progressBar('remove-package');
  try {
    for (const [n, id] of args.ids.entries()) {
      const lines: string[] = [];
      if (db) lines.push((await deletePackage(db.client, id)) ? 'registry row deleted' : 'not in the registry');
      lines.unshift((await deleteDocument(t, id)) ? `removed from ${t.index}` : `not in ${t.index}`);
      if (args.ids.length > 20) bar.update(n + 1, args.ids.length);
      console.log(`${id}: ${lines.join(', ')}`);
    }
  } finally {
    bar.finish();
    await db?.close();
  }
}

main().catch((err: Error) => {
  console.error(`remove-package failed: ${err.message}`);
  process.exit(1);
});
