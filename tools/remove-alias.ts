/**
 * npm run tools:remove-alias -- <index> [--alias <name>]
 *
 * Removes the alias (default OS_ES_PACKAGES_INDEX_NAME) from a physical
 * index, like the original remove_packages_alias tool.
 */
import { nameState, removeAlias, target } from '../src/search/elasticsearch/index.ts';
import { indexSettings } from './lib/search-index.ts';

const HELP = `Usage: npm run tools:remove-alias -- <index> [--alias <name>]

Removes the alias OS_ES_PACKAGES_INDEX_NAME (default "packages"; or --alias)
from the physical index <index> at OS_ELASTICSEARCH_ADDRESS (.env is read).
Searches through the alias stop seeing that index at once.

  --alias <name>  the alias to remove (default: the configured index name)
  --help          this text`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  let alias: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--alias') alias = argv[++i];
    else if (a.startsWith('-')) throw new Error(`unknown option ${a} (see --help)`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new Error('give exactly one index name (see --help)');
  const index = positional[0]!;
  const settings = indexSettings();
  const name = alias ?? settings.index;
  if (!name) throw new Error('--alias needs a name');
  const t = target(settings.url, name);
  if (await removeAlias(t.client, index, name)) {
    console.log(`removed alias ${name} from ${index}`);
    const state = await nameState(t.client, name);
    console.log(state.kind === 'alias' ? `${name} now points at: ${state.indices.join(', ')}` : `${name} now resolves to nothing`);
  } else {
    console.error(`${index} has no alias ${name} (nothing changed)`);
    process.exitCode = 2;
  }
}

main().catch((err: Error) => {
  console.error(`remove-alias failed: ${err.message}`);
  process.exit(1);
});
