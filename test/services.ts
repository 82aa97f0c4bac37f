/**
 * The loopback servers beyond Postgres that tests need (OIDC provider,
 * S3-compatible server, OpenSearch). Each returns the bindings that point the
 * Worker at it and a stop function.
 */
export interface StartedServices {
  bindings: Record<string, string>;
  stops: Array<() => Promise<void>>;
}

export async function startTestServices(_base: Record<string, string>): Promise<StartedServices> {
  return { bindings: {}, stops: [] };
}
