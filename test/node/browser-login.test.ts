/**
 * A real browser (Debian chromium via playwright-core) runs an Angular 1.x
 * page served from ANOTHER SITE (localhost; the service is on 127.0.0.1),
 * loads /user/lib from the running service, logs in through the loopback
 * OpenID provider's real form and gets a permission token with
 * authorize.check(), exactly as os-admin does. Cross-site, the browser drops
 * cookies set on the page's XHRs to the service; the login works because the
 * cookie is set by the first-party hop /oauth/google_login.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { importSPKI, jwtVerify } from 'jose';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../tools/services/util.ts';
import { TEST_OIDC } from '../services.ts';
import { startWorker, type RunningWorker } from './helpers/worker.ts';

let worker: RunningWorker;
let site: Server;
let siteUrl: string;
let browser: Browser;

function pageHtml(serviceUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>frontend</title>
<script src="/angular.min.js"></script>
<script src="${serviceUrl}/user/lib"></script>
<script>
  angular.module('frontend', ['authClient'])
    .run(['authenticate', 'authorize', '$window', function (authenticate, authorize, $window) {
      var next = $window.location.origin + $window.location.pathname;
      authenticate.check(next).then(function (result) {
        return authorize.check(result.token, 'os.datastore').then(function (permission) {
          $window.__login = { token: result.token, profile: result.profile, permission: permission };
        });
      }, function (providers) {
        $window.__providers = providers;
      });
    }]);
  document.addEventListener('DOMContentLoaded', function () { angular.bootstrap(document.body, ['frontend']); });
</script></head><body><p>frontend</p></body></html>`;
}

beforeAll(async () => {
  const bindings = inject('bindings');
  const baseUrl = bindings.OS_TEST_BROWSER_BASE_URL;
  if (!baseUrl) throw new Error('OS_TEST_BROWSER_BASE_URL missing from the test bindings');
  const sitePort = await freePort();
  // Another SITE than the Worker (127.0.0.1): cookies set on the page's XHRs to the service are third-party.
  siteUrl = `http://localhost:${sitePort}`;
  if (new URL(baseUrl).hostname !== '127.0.0.1') throw new Error('the cross-site setup expects the Worker on 127.0.0.1');
  worker = await startWorker({
    baseUrl,
    bindings: {
      ...bindings,
      OS_OIDC_CLIENT_ID: TEST_OIDC.browser.client_id,
      OS_OIDC_CLIENT_SECRET: TEST_OIDC.browser.client_secret,
      OS_FRONTEND_ORIGINS: siteUrl,
      OS_DEV_MODE: 'true',
    },
  });
  const angularJs = await readFile('node_modules/angular/angular.min.js');
  site = createServer((req, res) => {
    if (req.url === '/angular.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(angularJs);
    } else if (req.url?.startsWith('/app')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pageHtml(worker.url));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => site.listen(sitePort, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: bindings.OS_TEST_CHROMIUM || undefined,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await worker?.stop();
});

interface LoginResult {
  token: string;
  profile: Record<string, unknown>;
  permission: { token: string; userid: string; service: string; permissions: Record<string, unknown> };
}

async function loginInBrowser(page: Page, account: string): Promise<LoginResult> {
  await page.goto(`${siteUrl}/app`);
  const providers = (await (await page.waitForFunction(() => (window as unknown as { __providers?: unknown }).__providers)).jsonValue()) as {
    google: { url: string };
  };
  expect(providers.google.url).toMatch(new RegExp(`^${worker.url.replace(/\./g, '\\.')}/oauth/google_login\\?state=[\\w-]{43}$`));
  // os-admin style: a full-page login through authenticate.login(url, '_self').
  await page.evaluate((url) => {
    const injector = (window as unknown as { angular: { element(e: Element): { injector(): { get(n: string): { login(u: string, t: string): void } } } } }).angular
      .element(document.body)
      .injector();
    injector.get('authenticate').login(url, '_self');
  }, providers.google.url);
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached' });
  await page.locator('button[type="submit"]').click();
  const handle = await page.waitForFunction(() => (window as unknown as { __login?: unknown }).__login, undefined, { timeout: 20_000 });
  return (await handle.jsonValue()) as LoginResult;
}

describe('browser: /user/lib on another origin, real login, permission token', () => {
  it('logs in, stores the token as ngStorage-jwt and gets an os.datastore permission token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const account = `grace-${Date.now()}`;
    const result = await loginInBrowser(page, account);

    // Back on the frontend with ?jwt= in the address bar, like os-admin after a '_self' login.
    const landed = new URL(page.url());
    expect(landed.origin + landed.pathname).toBe(`${siteUrl}/app`);
    expect(landed.searchParams.get('jwt')).toBe(result.token);

    expect(result.profile).toMatchObject({ email: `${account}@example.org`, username: null, id: `google:${account}` });
    const stored = await page.evaluate(() => window.localStorage.getItem('ngStorage-jwt'));
    expect(stored).toBe(JSON.stringify(result.token));

    expect(result.permission).toMatchObject({ service: 'os.datastore', permissions: { 'datapackage-upload': true } });
    expect(result.permission.userid).toBe(result.profile.idhash);
    const pem = await (await fetch(`${worker.url}/user/public-key`)).text();
    const { payload } = await jwtVerify(result.permission.token, await importSPKI(pem, 'RS256'), {
      algorithms: ['RS256'],
      audience: 'os.datastore',
    });
    expect(payload.userid).toBe(result.profile.idhash);

    // The login cookie is the service's (set by the hop), HttpOnly, SameSite=Lax.
    const cookies = await context.cookies(worker.url);
    const loginCookie = cookies.find((c) => c.name === 'os_login');
    expect(loginCookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    // A reload finds the stored token.
    await page.reload();
    const again = (await (await page.waitForFunction(() => (window as unknown as { __login?: unknown }).__login)).jsonValue()) as LoginResult;
    expect(again.token).toBe(result.token);

    // logout() forgets the token, and the ?jwt= still in the address bar does not log the user back in.
    await page.evaluate(() => {
      const injector = (window as unknown as { angular: { element(e: Element): { injector(): { get(n: string): { logout(): void } } } } }).angular
        .element(document.body)
        .injector();
      injector.get('authenticate').logout();
      (injector.get('$rootScope') as unknown as { $apply(): void }).$apply();
    });
    expect(await page.evaluate(() => window.localStorage.getItem('ngStorage-jwt'))).toBeNull();
    expect(new URL(page.url()).searchParams.get('jwt')).toBe(result.token);
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __providers?: unknown }).__providers);
    expect(await page.evaluate(() => (window as unknown as { __login?: unknown }).__login)).toBeUndefined();
    await context.close();
  }, 90_000);

  it('lets only the first browser that opens a login URL use it', async () => {
    const first = await browser.newContext();
    const page = await first.newPage();
    await page.goto(`${siteUrl}/app`);
    const providers = (await (await page.waitForFunction(() => (window as unknown as { __providers?: unknown }).__providers)).jsonValue()) as {
      google: { url: string };
    };
    await page.goto(providers.google.url);
    await page.locator('input[name="login"]').waitFor({ state: 'attached' });
    const second = await browser.newContext();
    const other = await second.newPage();
    await other.goto(providers.google.url);
    expect(other.url()).toBe(`${worker.url}/`);
    expect((await second.cookies(worker.url)).find((c) => c.name === 'os_login')).toBeUndefined();
    await first.close();
    await second.close();
  }, 60_000);

  it('check() rejects on an HTTP error instead of hanging, and keeps the stored token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${siteUrl}/app`);
    await page.waitForFunction(() => (window as unknown as { __providers?: unknown }).__providers);
    const outcome = await page.evaluate(async (base) => {
      const injector = (window as unknown as { angular: { element(e: Element): { injector(): { get(n: string): unknown } } } }).angular
        .element(document.body)
        .injector();
      const baseUrl = injector.get('baseUrl') as { setBaseUrl(u: string): void; getBaseUrl(): string };
      const authenticate = injector.get('authenticate') as { check(n: string): Promise<unknown> };
      const $rootScope = injector.get('$rootScope') as { $apply(): void };
      (injector.get('$localStorage') as { jwt?: string }).jwt = 'kept-token';
      $rootScope.$apply();
      baseUrl.setBaseUrl(base + '/no-such-prefix');
      const settled = authenticate.check('http://x/').then(
        () => ({ resolved: true }),
        (reason: unknown) => ({ rejected: reason }),
      );
      $rootScope.$apply();
      return settled;
    }, worker.url);
    expect(outcome).toEqual({ rejected: { error: 'HTTP 404', status: 404 } });
    // A server error is not a verdict on the token: it stays stored.
    expect(await page.evaluate(() => window.localStorage.getItem('ngStorage-jwt'))).toBe(JSON.stringify('kept-token'));
    await context.close();
  }, 60_000);

  it('serves the library with the base URL baked in, as text/javascript, never as JSONP', async () => {
    const res = await fetch(`${worker.url}/user/lib?callback=cb`);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const text = await res.text();
    expect(text).toContain(`var url = ${JSON.stringify(worker.url)};`);
    expect(text).not.toMatch(/^\/\*\*\/cb\(/);
  });
});
