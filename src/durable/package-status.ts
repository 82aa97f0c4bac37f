import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';

/** Load status of one datapackage (keyed by its URL). */
export class PackageStatus extends DurableObject<Env> {}
