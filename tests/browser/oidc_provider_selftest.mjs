// Checks the OpenID provider harness (oidc_provider.mjs) on its own, as a relying party would
// use it: an authorization code flow with PKCE, state and nonce in Debian's headless
// Chromium (the login and consent pages filled in, the redirect to the callback caught, as
// nothing listens there), the code exchanged with HTTP Basic and the ID token verified
// against the JWKS; then what the relying party must live with: a code is good once, PKCE is
// required, the token endpoint takes the secret by HTTP Basic or in the body, an unknown
// login name signs in with only sub, the logout page and its redirect, and a key rotation
// that leaves only the new key in the JWKS (counted fetches) and makes an old ID token
// useless as id_token_hint.
//
//   cd tests/browser && node --test oidc_provider_selftest.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const executablePath = process.env.CONSOLED_CHROMIUM || "/usr/bin/chromium";
const harness = fileURLToPath(new URL("./oidc_provider.mjs", import.meta.url));
// A stand-in for the relying party: answers 200 to anything (the test reads the URLs).
const rp = createServer((req, res) => res.end("relying party"));
await new Promise((resolve) => rp.listen(0, "127.0.0.1", resolve));
rp.unref();
const rpOrigin = `http://127.0.0.1:${rp.address().port}`;
const callback = `${rpOrigin}/cb`;
const afterLogout = `${rpOrigin}/out`;
const secret = "harness-secret-0123456789";
const users = {
  alice: { email: "alice@acme.test", email_verified: true, name: "Alice" },
  carol: { email: "carol@acme.test", email_verified: false, name: "Carol" },
};

async function startHarness() {
  const child = spawn(process.execPath, [harness], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => { stderr += chunk; });
  let stdout = "";
  const line = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const end = stdout.indexOf("\n");
      if (end >= 0) resolve(stdout.slice(0, end));
    });
    child.on("exit", (code) => reject(new Error(`harness exited (${code}): ${stderr}`)));
  });
  return { child, ...JSON.parse(line), stdout: () => stdout, stderr: () => stderr };
}

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const basic = (id, pw) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(pw)}`).toString("base64")}`;

function decodeJwt(jwt) {
  const [h, p, s] = jwt.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url")),
    payload: JSON.parse(Buffer.from(p, "base64url")),
    signed: `${h}.${p}`,
    signature: Buffer.from(s, "base64url"),
  };
}

async function verifyIdToken(issuer, jwt) {
  const token = decodeJwt(jwt);
  const { keys } = await (await fetch(`${issuer}/jwks`)).json();
  const jwk = keys.find((k) => k.kid === token.header.kid);
  assert.ok(jwk, `the JWKS has the ID token's kid ${token.header.kid}`);
  assert.equal(token.header.alg, "RS256");
  const ok = verify("RSA-SHA256", Buffer.from(token.signed), createPublicKey({ key: jwk, format: "jwk" }), token.signature);
  assert.ok(ok, "the ID token's signature verifies with the JWKS");
  return token;
}

function authRequest(issuer, extra = {}) {
  const verifier = b64url(randomBytes(32));
  const params = {
    response_type: "code",
    client_id: "consoled",
    redirect_uri: callback,
    scope: "openid email profile",
    state: b64url(randomBytes(16)),
    nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v === undefined) delete params[k];
  return { url: `${issuer}/auth?${new URLSearchParams(params)}`, verifier, params };
}

// Blocks the provider pages' Google font.
async function newContext(browser) {
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    return route.abort();
  });
  return context;
}

// Follows an authorization request through the development login page (when login is a
// name) and the consent page (unless login is null), and returns the callback URL the
// provider redirected to.
async function authorize(page, url, login) {
  const reached = page.waitForURL((u) => u.href.startsWith(callback) || u.href.startsWith(`${rpOrigin}/`));
  reached.catch(() => {}); // awaited below; not an unhandled rejection if a step fails first
  await page.goto(url);
  if (login && login !== "consent") {
    await page.locator("input[name=login]").waitFor();
    assert.equal(await page.locator(".login-card h1").textContent(), "Sign-in");
    await page.fill("input[name=login]", login);
    await page.fill("input[name=password]", "any password");
    await page.click("button.login-submit");
  }
  if (login) {
    await page.locator("button.login-submit", { hasText: "Continue" }).waitFor();
    assert.equal(await page.locator(".login-card h1").textContent(), "Authorize");
    await page.click("button.login-submit");
  }
  await reached;
  return new URL(page.url());
}

async function token(issuer, code, verifier, auth = "basic") {
  const body = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: callback, code_verifier: verifier });
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  if (auth === "basic") headers.authorization = basic("consoled", secret);
  else { body.set("client_id", "consoled"); body.set("client_secret", secret); }
  const res = await fetch(`${issuer}/token`, { method: "POST", headers, body });
  return { status: res.status, body: await res.json() };
}

test("the OpenID provider harness: code flow with PKCE, logout, key rotation", { timeout: 120_000 }, async () => {
  const h = await startHarness();
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-quic"] });
  try {
    assert.match(h.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(h.control, `${h.issuer}/__test`);
    const configured = await fetch(`${h.control}/configure`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        clients: [{ client_id: "consoled", client_secret: secret, redirect_uris: [callback], post_logout_redirect_uris: [afterLogout] }],
        users,
      }),
    });
    assert.equal(configured.status, 204);

    const discovery = await (await fetch(`${h.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, h.issuer);
    assert.equal(discovery.end_session_endpoint, `${h.issuer}/session/end`);
    assert.equal(discovery.jwks_uri, `${h.issuer}/jwks`);
    assert.deepEqual(discovery.code_challenge_methods_supported, ["S256"]);

    // alice: login, consent, callback with code, state and iss.
    const context = await newContext(browser);
    const page = await context.newPage();
    const req = authRequest(h.issuer);
    const cb = await authorize(page, req.url, "alice");
    assert.equal(cb.origin + cb.pathname, callback);
    assert.equal(cb.searchParams.get("state"), req.params.state);
    assert.equal(cb.searchParams.get("iss"), h.issuer);
    const code = cb.searchParams.get("code");
    assert.ok(code, `a code in ${cb}`);

    // A wrong code_verifier is refused and does not spend the code.
    const wrong = await token(h.issuer, code, b64url(randomBytes(32)));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, "invalid_grant");
    // A wrong secret is refused.
    const badSecret = await fetch(`${h.issuer}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic("consoled", "wrong") },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: callback, code_verifier: req.verifier }),
    });
    assert.equal(badSecret.status, 401);
    assert.equal((await badSecret.json()).error, "invalid_client");

    const tokens = await token(h.issuer, code, req.verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const id = await verifyIdToken(h.issuer, tokens.body.id_token);
    assert.equal(id.payload.iss, h.issuer);
    assert.equal(id.payload.aud, "consoled");
    assert.equal(id.payload.sub, "alice");
    assert.equal(id.payload.nonce, req.params.nonce);
    assert.equal(id.payload.email, "alice@acme.test");
    assert.equal(id.payload.email_verified, true);
    assert.equal(id.payload.name, "Alice");
    const oldIdToken = tokens.body.id_token;

    // A code is good once.
    const replay = await token(h.issuer, code, req.verifier);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, "invalid_grant");

    const again = authRequest(h.issuer);
    // Signed in at the provider, but the replayed code revoked the grant: consent again,
    // without the login page.
    const cb2 = await authorize(page, again.url, "consent");
    assert.ok(cb2.searchParams.get("code"), "no login the second time");

    // PKCE is required.
    const noPkce = authRequest(h.issuer, { code_challenge: undefined, code_challenge_method: undefined });
    const cb3 = await authorize(page, noPkce.url, null);
    assert.equal(cb3.searchParams.get("error"), "invalid_request", String(cb3));
    assert.match(cb3.searchParams.get("error_description"), /requires PKCE/);

    // carol: email_verified false comes through as false.
    {
      const ctx = await newContext(browser);
      const p = await ctx.newPage();
      const r = authRequest(h.issuer);
      const c = await authorize(p, r.url, "carol");
      // client_secret_post is accepted as well as client_secret_basic.
      const t = await token(h.issuer, c.searchParams.get("code"), r.verifier, "post");
      assert.equal(t.status, 200, JSON.stringify(t.body));
      const { payload } = await verifyIdToken(h.issuer, t.body.id_token);
      assert.equal(payload.email, "carol@acme.test");
      assert.equal(payload.email_verified, false);
      await ctx.close();
    }
    // An unknown login name signs in with only sub.
    {
      const ctx = await newContext(browser);
      const p = await ctx.newPage();
      const r = authRequest(h.issuer);
      const c = await authorize(p, r.url, "zed");
      const t = await token(h.issuer, c.searchParams.get("code"), r.verifier);
      const { payload } = await verifyIdToken(h.issuer, t.body.id_token);
      assert.equal(payload.sub, "zed");
      assert.equal(payload.email, undefined);
      await ctx.close();
    }

    // Key rotation: only the new key in the JWKS; fetches are counted.
    const before = (await (await fetch(`${h.control}/jwks-fetches`)).json()).count;
    const oldKid = decodeJwt(oldIdToken).header.kid;
    const rotated = await fetch(`${h.control}/rotate-keys`, { method: "POST" });
    assert.equal(rotated.status, 200);
    const { kid } = await rotated.json();
    assert.notEqual(kid, oldKid);
    const jwks = await (await fetch(`${h.issuer}/jwks`)).json();
    assert.deepEqual(jwks.keys.map((k) => k.kid), [kid], "only the new key is published");
    assert.equal((await (await fetch(`${h.control}/jwks-fetches`)).json()).count, before + 1);

    // alice's provider session survives the rebuild; her next ID token has the new kid.
    const after = authRequest(h.issuer);
    const cb4 = await authorize(page, after.url, null);
    const t4 = await token(h.issuer, cb4.searchParams.get("code"), after.verifier);
    assert.equal(t4.status, 200, JSON.stringify(t4.body));
    assert.equal((await verifyIdToken(h.issuer, t4.body.id_token)).header.kid, kid);

    // An ID token signed with the dropped key is no longer a valid id_token_hint.
    const hinted = await fetch(`${h.issuer}/session/end?${new URLSearchParams({ id_token_hint: oldIdToken, post_logout_redirect_uri: afterLogout })}`);
    assert.equal(hinted.status, 400, "an id_token_hint under the old key is refused");

    // Logout with client_id and post_logout_redirect_uri: the confirmation page, then back
    // to the relying party with state.
    const logoutState = b64url(randomBytes(8));
    await page.goto(`${h.issuer}/session/end?${new URLSearchParams({ client_id: "consoled", post_logout_redirect_uri: afterLogout, state: logoutState })}`);
    assert.equal(await page.title(), "Logout Request");
    const yes = page.locator('button[name="logout"][value="yes"]');
    assert.equal((await yes.textContent()).trim(), "Yes, sign me out");
    await Promise.all([page.waitForURL((u) => u.href.startsWith(afterLogout)), yes.click()]);
    const outUrl = new URL(page.url());
    assert.equal(outUrl.searchParams.get("state"), logoutState);
    // Signed out at the provider: the login page again.
    const cb5 = authRequest(h.issuer);
    await page.goto(cb5.url);
    await page.locator("input[name=login]").waitFor();
    await context.close();

    // stdout carried exactly one line.
    assert.equal(h.stdout().trim().split("\n").length, 1, `stdout: ${h.stdout()}`);
  } finally {
    await browser.close();
    h.child.kill("SIGTERM");
    const [code, signal] = await once(h.child, "exit");
    assert.equal(code, 0, `the harness exits cleanly on SIGTERM (signal ${signal}); stderr: ${h.stderr()}`);
  }
});
