/**
 * npm run migrate — applies the schema migrations to OS_CONDUCTOR_ENGINE.
 */
import { migrate } from '../src/db/migrations/index.ts';
import { connectNode } from './lib/db.ts';
import { loadDotEnv } from './lib/dotenv.ts';

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log('Usage: npm run migrate\nApplies pending schema migrations to the database in OS_CONDUCTOR_ENGINE (.env is read).');
    return;
  }
  loadDotEnv();
  const url = process.env.OS_CONDUCTOR_ENGINE;
  if (!url) throw new Error('OS_CONDUCTOR_ENGINE is not set');
  const db = await connectNode(url);
  try {
    const applied = await migrate(db.client);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await db.close();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
