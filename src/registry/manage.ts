/**
 * Package management as its owner does it (publish, delete, default view
 * parameters, pipeline hooks): the ownership check, the registry write, the
 * index mirror. Answers carry the original's shapes (api.md rows 12–15).
 * The caller has verified the permission token and passes its user id.
 * After each change os-api's cache of the package is cleared (OS_API_CACHE),
 * as the original's registry did on every update.
 */
import { concatBytes } from '../http/bytes.ts';
import { clearOsApiCache } from '../cache/os-api-cache.ts';
import type { Config } from '../config.ts';
import { withDb } from '../db/client.ts';
import type { Logger } from '../http/log.ts';
import { hookPayload, isAllowedPipeline, normalisePipelineUrl, summariseHookResponse, type HookPayload } from './hooks.ts';
import { writeRegistry } from './index-sync.ts';
import { mayManagePackage } from './policy.ts';
import { deletePackage, getPackage, setDefaultParams, setPublished, type PublishMode } from './registry.ts';

export type Failure = { success: false; error: string };

/**
 * Clears os-api's cached responses of a package. A cache that cannot be
 * reached does not undo the committed change: it is logged, and os-api's
 * entries expire on their own.
 */
async function clearApiCache(config: Config, id: string, log?: Logger): Promise<void> {
  try {
    await clearOsApiCache(config, id);
  } catch (err) {
    log?.('warn', 'os-api cache not cleared', { package: id, error: (err as Error).message });
  }
}

/** The original's text for an unknown package; also what non-owners get, so ids of private packages do not leak. */
export function notFound(id: string): Failure {
  return { success: false, error: `Failed to locate package ${id}` };
}

/** POST /package/publish. */
export async function publishAs(
  config: Config,
  userid: string,
  id: string,
  mode: PublishMode,
  log?: Logger,
): Promise<{ success: true; published: boolean } | Failure> {
  if (!mayManagePackage(userid, id)) return notFound(id);
  const answer = await withDb(config, (db) =>
    writeRegistry(config, db, id, async () => {
      const published = await setPublished(db, id, mode);
      return published === null ? notFound(id) : { success: true as const, published };
    }),
  );
  if (answer.success) await clearApiCache(config, id, log);
  return answer;
}

/** POST /package/delete: `{success}` for the owner (false when unknown), null for anyone else. */
export async function deleteAs(
  config: Config,
  userid: string,
  id: string,
  log?: Logger,
): Promise<{ success: boolean } | null> {
  if (!mayManagePackage(userid, id)) return null;
  const answer = await withDb(config, (db) =>
    writeRegistry(config, db, id, async () => ({ success: await deletePackage(db, id) })),
  );
  if (answer.success) await clearApiCache(config, id, log);
  return answer;
}

/** POST /package/update_params: `{success:true}`, or null (not the owner, or unknown package). */
export async function updateParamsAs(
  config: Config,
  userid: string,
  id: string,
  body: { params: string } & Record<string, unknown>,
  log?: Logger,
): Promise<{ success: true } | null> {
  if (!mayManagePackage(userid, id)) return null;
  const answer = await withDb(config, (db) =>
    writeRegistry(config, db, id, async () => ((await setDefaultParams(db, id, body)) ? { success: true as const } : null)),
  );
  if (answer) await clearApiCache(config, id, log);
  return answer;
}

/** How long a pipeline may take to answer. */
const HOOK_TIMEOUT_MS = 15_000;
/** How much of its answer we read. */
const MAX_HOOK_BODY_BYTES = 4096;

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_HOOK_BODY_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
  return new TextDecoder().decode(concatBytes(chunks).subarray(0, MAX_HOOK_BODY_BYTES));
}

/**
 * POST /package/run-hooks: posts the JSON-LD payload to an allow-listed
 * pipeline URL. Nothing is sent for a URL outside OS_PIPELINE_URLS, for a
 * package of someone else, or an unknown package. Redirects are not
 * followed (they could leave the allow-list).
 */
export async function runHooksAs(
  config: Config,
  userid: string,
  id: string,
  pipeline: string,
): Promise<{ success: boolean; response: string; payload: HookPayload } | Failure> {
  const target = normalisePipelineUrl(pipeline);
  if (!target || !isAllowedPipeline(target, config.OS_PIPELINE_URLS)) {
    return { success: false, error: 'pipeline is not an allowed pipeline URL' };
  }
  if (!mayManagePackage(userid, id)) return notFound(id);
  const doc = await withDb(config, (db) => getPackage(db, id));
  if (!doc) return notFound(id);

  const payload = hookPayload(doc.origin_url);
  const form = new FormData();
  form.append('input', new File([JSON.stringify(payload)], 'package-url.jsonld', { type: 'application/ld+json' }));
  try {
    const res = await fetch(target, {
      method: 'POST',
      body: form,
      redirect: 'manual',
      signal: AbortSignal.timeout(HOOK_TIMEOUT_MS),
    });
    const body = await readCapped(res);
    return { success: res.ok, response: summariseHookResponse(res.status, body), payload };
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable';
    return { success: false, error: `pipeline ${reason}` };
  }
}
