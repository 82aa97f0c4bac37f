/**
 * Extra os-types taxonomies through the client flow: /datastore/ authorize
 * -> PUT to the real S3 server -> /package/upload -> the queue consumer ->
 * /package/status, on a Worker whose OS_EXTRA_TAXONOMIES names a taxonomy
 * written for this test (deeper administrative levels, a new programme
 * classification) or the built-in vulekamali one.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { getConfig } from '../../src/config.ts';
import { withDb } from '../../src/db/client.ts';
import type { Env } from '../../src/env.ts';
import { packageId } from '../../src/loader/naming.ts';
import type { LoaderMessage } from '../../src/queue/messages.ts';
import { getPackage } from '../../src/registry/registry.ts';
import { callWith, newUserId, permissionToken } from '../helpers/app.ts';
import { drain, drivenEnv, putFiles, query, type StatusBody } from './helpers.ts';

const level = (n: number) => `administrative-classification:generic:level${n}`;

/** The test's taxonomy, in os-types' format. */
const DEEPER = {
  [`${level(9)}:code`]: {
    dataType: 'string',
    dimensionType: 'classification',
    classificationType: 'administrative',
    uniqueIdentifier: true,
    parent: `${level(8)}:code`,
  },
  [`${level(9)}:label`]: {
    dataType: 'string',
    dimensionType: 'classification',
    classificationType: 'administrative',
    labelfor: `${level(9)}:code`,
  },
  'programme-classification:generic:level1:code': {
    dataType: 'string',
    dimensionType: 'classification',
    classificationType: 'programme',
    uniqueIdentifier: true,
  },
  'programme-classification:generic:level1:label': {
    dataType: 'string',
    dimensionType: 'classification',
    classificationType: 'programme',
    labelfor: 'programme-classification:generic:level1:code',
  },
  'programme-classification:generic:level2:code': {
    dataType: 'string',
    dimensionType: 'classification',
    classificationType: 'programme',
    uniqueIdentifier: true,
    parent: 'programme-classification:generic:level1:code',
  },
};

const FIELDS: Array<[string, string]> = [
  ['Department code', `${level(1)}:code`],
  ['Department', `${level(1)}:label`],
  ['Cost centre', `${level(9)}:code`],
  ['Cost centre name', `${level(9)}:label`],
  ['Programme', 'programme-classification:generic:level1:code'],
  ['Programme name', 'programme-classification:generic:level1:label'],
  ['Sub-programme', 'programme-classification:generic:level2:code'],
  ['Year', 'date:fiscal-year'],
  ['Amount', 'value'],
];

const CSV = [
  FIELDS.map(([name]) => name).join(','),
  '01,Presidency,01-0001-0003,Cabinet office,P1,Administration,P1.1,2024,1000.50',
  '01,Presidency,01-0001-0004,Policy unit,P2,Policy,P2.3,2024,250',
  '02,Treasury,02-0007-0001,Budget office,P1,Administration,P1.2,2024,-75.25',
].join('\n');

/** A descriptor as vulekamali's automation uploads it: columnType fields, no model. */
function descriptor(owner: string, name: string, fields: Array<[string, string]>): Record<string, unknown> {
  return {
    name,
    owner,
    author: 'Treasury Tester <tester@example.org>',
    resources: [{ name, path: 'data.csv', schema: { fields: fields.map(([field, columnType]) => ({ name: field, columnType })) } }],
  };
}

/** Publishes a package through the client flow on the Worker with bindings `e`; its final status. */
async function publish(e: Env, fields: Array<[string, string]>, csv: string): Promise<{ end: StatusBody; id: string; owner: string }> {
  const owner = newUserId();
  const name = `taxonomy-${owner.slice(0, 8)}`;
  const token = await permissionToken(owner);
  const files = {
    'data.csv': new TextEncoder().encode(csv),
    'datapackage.json': new TextEncoder().encode(JSON.stringify(descriptor(owner, name, fields))),
  };
  const urls = await putFiles(owner, token, name, files);
  const url = urls['datapackage.json'] as string;
  const sent = (e as unknown as { sent: LoaderMessage[] }).sent;
  const up = await callWith(e, `/package/upload?datapackage=${encodeURIComponent(url)}&jwt=${encodeURIComponent(token)}`, { method: 'POST' });
  expect(await up.json()).toEqual({ progress: 0, status: 'queued' });
  await drain(e, sent);
  const res = await callWith(e, `/package/status?datapackage=${encodeURIComponent(url)}`);
  return { end: (await res.json()) as StatusBody, id: packageId(owner, name), owner };
}

/** drivenEnv with `settings`, keeping its recorded queue messages with it. */
function worker(settings: Record<string, string>): Env {
  const sent: LoaderMessage[] = [];
  return Object.assign(drivenEnv(sent, settings), { sent });
}

async function registryEntry(e: Env, id: string) {
  const doc = await withDb(getConfig(e), (db) => getPackage(db, id));
  if (!doc) throw new Error(`no registry entry for ${id}`);
  return doc as unknown as { package: { model: Record<string, unknown> }; model: Record<string, unknown> };
}

describe('extra os-types taxonomies through the client flow', () => {
  it('loads a package using the deeper levels and the new classification, with the model os-types builds from them', async () => {
    const e = worker({ OS_EXTRA_TAXONOMIES: 'deeper', OS_TAXONOMY_DEEPER: JSON.stringify(DEEPER) });
    const { end, id } = await publish(e, FIELDS, CSV);
    expect(end, JSON.stringify(end)).toMatchObject({ status: 'done', records: 3 });

    const doc = await registryEntry(e, id);
    // os-types: one dimension per concept; the level-9 code's parent is the
    // nearest ancestor present (level 8 -> ... -> level 1); labels point to their codes.
    expect(doc.package.model).toEqual({
      dimensions: {
        'administrative-classification': {
          dimensionType: 'classification',
          classificationType: 'administrative',
          primaryKey: ['Department_code', 'Cost_centre'],
          attributes: {
            Department_code: { source: 'Department code', title: 'Department code' },
            Department: { source: 'Department', title: 'Department', labelfor: 'Department_code' },
            Cost_centre: { source: 'Cost centre', title: 'Cost centre', parent: 'Department_code' },
            Cost_centre_name: { source: 'Cost centre name', title: 'Cost centre name', labelfor: 'Cost_centre' },
          },
        },
        'programme-classification': {
          dimensionType: 'classification',
          classificationType: 'programme',
          primaryKey: ['Programme', 'Sub_programme'],
          attributes: {
            Programme: { source: 'Programme', title: 'Programme' },
            Programme_name: { source: 'Programme name', title: 'Programme name', labelfor: 'Programme' },
            Sub_programme: { source: 'Sub-programme', title: 'Sub-programme', parent: 'Programme' },
          },
        },
        date: { dimensionType: 'datetime', primaryKey: ['Year'], attributes: { Year: { source: 'Year', title: 'Year' } } },
      },
      measures: { Amount: { source: 'Amount', title: 'Amount' } },
    });

    // The babbage model os-api serves: one dimension per key, labels attached, hierarchies in key order.
    const babbage = doc.model as {
      fact_table: string;
      measures: Record<string, { column: string }>;
      dimensions: Record<string, { key_attribute: string; label_attribute?: string; attributes: Record<string, { column: string }> }>;
      hierarchies: Record<string, { levels: string[] }>;
    };
    expect(Object.fromEntries(Object.entries(babbage.hierarchies).map(([h, v]) => [h, v.levels.length]))).toEqual({
      administrative_classification: 2,
      programme_classification: 2,
      date: 1,
    });
    const costCentre = babbage.dimensions[babbage.hierarchies.administrative_classification?.levels[1] as string];
    expect(costCentre?.label_attribute).toBeDefined();
    const labelColumn = costCentre?.attributes[costCentre.label_attribute as string]?.column as string;
    const keyColumn = costCentre?.attributes[costCentre.key_attribute]?.column as string;
    const rows = await query<{ k: string; l: string }>(`SELECT "${keyColumn}" AS k, "${labelColumn}" AS l FROM "${babbage.fact_table}" ORDER BY _id`);
    expect(rows).toEqual([
      { k: '01-0001-0003', l: 'Cabinet office' },
      { k: '01-0001-0004', l: 'Policy unit' },
      { k: '02-0007-0001', l: 'Budget office' },
    ]);
    const amount = Object.values(babbage.measures)[0]?.column as string;
    const [sum] = await query<{ s: string }>(`SELECT sum("${amount}")::text AS s FROM "${babbage.fact_table}"`);
    expect(sum?.s).toBe('1175.25');
  });

  it('without the taxonomy the same upload fails, the error naming the field and its unknown type (os-types stops at the first)', async () => {
    const { end } = await publish(worker({}), FIELDS, CSV);
    expect(end.status).toBe('fail');
    expect(end.error).toContain(`field "Cost centre": Got unknown type ${level(9)}:code`);
  });

  it('a type in no taxonomy still fails with the taxonomy set, naming the field and the type', async () => {
    const e = worker({ OS_EXTRA_TAXONOMIES: 'deeper', OS_TAXONOMY_DEEPER: JSON.stringify(DEEPER) });
    const fields: Array<[string, string]> = [...FIELDS, ['Fund', 'fund:generic:level1:code']];
    const csv = CSV.split('\n').map((line, i) => `${line},${i === 0 ? 'Fund' : 'F1'}`).join('\n');
    const { end } = await publish(e, fields, csv);
    expect(end.status).toBe('fail');
    expect(end.error).toContain('field "Fund": Got unknown type fund:generic:level1:code');
  });

  it('loads vulekamali-style columnTypes with the built-in vulekamali taxonomy', async () => {
    const fields: Array<[string, string]> = [
      ['Vote No#', `${level(1)}:code`],
      ['Department', `${level(1)}:label`],
      ['Responsibility_Level_8', `${level(9)}:code`],
      ['Responsibility_Level_16', `${level(17)}:code`],
      ['Programme', 'activity:generic:program:code'],
      ['Project_Level_1', 'activity:generic:project:level1:code'],
      ['Asset_Level_1', 'asset:generic:level1:code'],
      ['Asset_Level_2', 'asset:generic:level2:code'],
      ['Item_Level_1', 'item:generic:level1:code'],
      ['Infrastructure_Level_1', 'infrastructure:generic:level1:code'],
      ['Fund_Level_1', 'fin-source:generic:level1:code'],
      ['Fund_Level_4', 'fin-source:generic:level4:code'],
      ['Region_Level_1', 'geo-source:target:level1:code'],
      ['Region_Level_3', 'geo-source:target:level3:code'],
      ['Financial_Year', 'date:fiscal-year'],
      ['Budget', 'value'],
    ];
    const csv = [fields.map(([n]) => n).join(','), '10,Health,R8,R16,P1,PRJ1,A1,A1.2,I1,INF1,F1,F4,ZA,GP,2023,100', '10,Health,R8b,R16b,P1,PRJ2,A2,A2.1,I2,INF2,F1,F4,ZA,WC,2023,200'].join('\n');
    const e = worker({ OS_EXTRA_TAXONOMIES: 'vulekamali' });
    const { end, id } = await publish(e, fields, csv);
    expect(end, JSON.stringify(end)).toMatchObject({ status: 'done', records: 2 });
    const model = (await registryEntry(e, id)).package.model as { dimensions: Record<string, { classificationType?: string; primaryKey: string[] }> };
    expect(Object.keys(model.dimensions).sort()).toEqual(
      ['activity', 'administrative-classification', 'asset', 'date', 'fin-source', 'geo-source', 'infrastructure', 'item'].sort(),
    );
    expect(model.dimensions['administrative-classification']?.primaryKey).toEqual(['Vote_No', 'Responsibility_Level_8', 'Responsibility_Level_16']);
    expect(model.dimensions.activity?.primaryKey).toEqual(['Programme', 'Project_Level_1']);
    expect(model.dimensions.asset).toMatchObject({ classificationType: 'asset', primaryKey: ['Asset_Level_1', 'Asset_Level_2'] });
  });

  it('a broken taxonomy setting stops the service with a message naming the setting and the type (503, nothing loaded)', async () => {
    const broken = { ...DEEPER, 'programme-classification:generic:level3:code': { dataType: 'string', dimensionType: 'classification', parent: 'programme-classification:generic:level9:code' } };
    const e = { ...env, OS_EXTRA_TAXONOMIES: 'deeper', OS_TAXONOMY_DEEPER: JSON.stringify(broken) } as Env;
    const errors = vi.spyOn(console, 'error');
    try {
      const res = await callWith(e, '/package/upload?datapackage=x&jwt=y', { method: 'POST' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'service misconfigured' });
      const logged = errors.mock.calls.map((args) => (JSON.parse(String(args[0])) as { msg: string }).msg).join('\n');
      expect(logged).toContain(
        'OS_TAXONOMY_DEEPER: type "programme-classification:generic:level3:code": parent "programme-classification:generic:level9:code" is not a known type',
      );
    } finally {
      errors.mockRestore();
    }
  });
});
