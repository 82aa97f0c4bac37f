/**
 * A real OpenID provider on loopback (npm `oidc-provider`, a certified
 * implementation) for tests and the dev stack. Its development interactions
 * show a login form that accepts any account name; the account's claims are
 * derived from that name (`<name>@example.org`, a display name, a picture),
 * so a login fills in the whole profile. PKCE is required for every client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from './util.ts';

/** The part of npm `oidc-provider` (which ships no types) used here. */
interface ProviderConstructor {
  new (issuer: string, configuration: Record<string, unknown>): {
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  };
}

async function loadProvider(): Promise<ProviderConstructor> {
  // A computed specifier keeps TypeScript from looking for type declarations.
  const specifier: string = 'oidc-provider';
  const mod = (await import(specifier)) as { default: ProviderConstructor };
  return mod.default;
}

export interface OidcClientRegistration {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface StartedOidcProvider {
  /** Issuer URL, e.g. http://127.0.0.1:41234 (discovery under /.well-known/openid-configuration). */
  issuer: string;
  port: number;
  stop(): Promise<void>;
}

/** Claims of the account a user "logs in" as on the provider's form. */
export function accountClaims(accountId: string): Record<string, unknown> {
  const local = accountId.trim().toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'user';
  return {
    sub: accountId,
    email: `${local}@example.org`,
    email_verified: true,
    name: accountId.replace(/[._-]+/g, ' ').replace(/\b\w/g, (ch) => ch.toUpperCase()),
    picture: `https://example.org/avatars/${encodeURIComponent(local)}.png`,
  };
}

/** Starts the provider; `clients` are confidential clients using client_secret_basic. */
export async function startOidcProvider(options: {
  port?: number;
  clients: OidcClientRegistration[];
}): Promise<StartedOidcProvider> {
  const port = options.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const Provider = await loadProvider();
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    findAccount: (_ctx: unknown, accountId: string) => ({
      accountId,
      claims: () => accountClaims(accountId),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'picture'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    // Development-only cookie signing key for the provider's own session cookies.
    cookies: { keys: ['dev-only-oidc-provider-cookie-key'] },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    issuer,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
