/**
 * `npm run provision`: brings what `npm test` needs (the test setup does the
 * same by itself). `--dry-run` prints what is present and what would be done.
 */
import { describeStep } from './plan.ts';
import { inspect, provision, ProvisionError } from './provision.ts';
import { TEST_REQUIREMENTS } from './requirements.ts';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log('usage: npm run provision [-- --dry-run]\nInstalls or builds what the test suite needs when missing (system packages need root or passwordless sudo).');
} else if (args.includes('--dry-run')) {
  const { facts, plan } = inspect();
  for (const r of TEST_REQUIREMENTS) {
    const state = !plan.needed.includes(r.name) ? 'not needed' : facts.present.has(r.name) ? 'present' : 'missing';
    console.log(`${state.padEnd(10)}  ${r.name}  (${r.reason})`);
  }
  for (const note of plan.notes) console.log(`note: ${note}`);
  for (const step of plan.steps) console.log(`would run (${facts.privilege}): ${describeStep(step)}`);
  for (const problem of plan.problems) console.log(`problem: ${problem}`);
  process.exitCode = plan.problems.length > 0 ? 1 : 0;
} else {
  try {
    await provision();
    console.log('provision: everything the tests need is present');
  } catch (err) {
    if (!(err instanceof ProvisionError)) throw err;
    console.error(err.message);
    process.exitCode = 1;
  }
}
