import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import type { Logger } from './log.ts';

/** Hono environment shared by every route. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    requestId: string;
    log: Logger;
  };
}

export type App = OpenAPIHono<AppEnv>;
