// Types of `env` and `exports` from "cloudflare:workers" inside tests.
type WorkerEnv = import('../src/env.ts').Env;
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../src/index.ts');
  }
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Env extends WorkerEnv {}
}
