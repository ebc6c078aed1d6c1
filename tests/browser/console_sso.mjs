// Single sign-on to the web console in a real headless browser (Debian's chromium, driven by
// playwright-core), against a real OpenID provider (oidc_provider.mjs: oidc-provider with its
// development login and consent pages):
//   1. alice (a member) signs in with "Sign in with single sign-on" and lands on the clusters
//      list, signed in as alice@acme.test;
//   2. bob (verified, not a member) is refused: "not a member";
//   3. carol (a member, but her email is not verified at the provider) is refused;
//   4. a tampered state and a replayed code are refused;
//   5. the provider rotates its signing key (the old one leaves the JWKS): alice signs out and
//      in again, and consoled fetched the new keys;
//   6. dave (verified, not a member) joins by auto-join when it is on, or is refused;
//   7. signing out goes through the provider's logout and back to the console's login page.
// consoled's login and refusal pages are checked with axe-core (no serious or critical
// violations); every page is saved as a screenshot sso-*.png in CONSOLED_ARTIFACTS.
//
// Run by the Rust test, which starts the provider harness and consoled (with --oidc-issuer,
// --oidc-client-id consoled, --oidc-client-secret, maybe --oidc-auto-join developer
// --oidc-allowed-domains auto.test), configures the provider's client and users (alice,
// bob, carol, dave) and sets CONSOLED_URL, OIDC_ISSUER, OIDC_CONTROL, CONSOLED_ARTIFACTS and
// CONSOLED_AUTO_JOIN ("1" when auto-join is on).
//
// About the browser: Playwright's routes see only the first URL of a redirect chain, and the
// provider reaches consoled's callback by redirects (consent form -> /auth/:uid -> callback),
// so the state is tampered with through the DevTools protocol's Fetch domain, which pauses
// every hop. The provider's pages @import a Google font: every host but 127.0.0.1 is made
// unresolvable, so nothing leaves the machine and nothing waits on the network.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.CONSOLED_URL;
const issuer = process.env.OIDC_ISSUER;
const control = process.env.OIDC_CONTROL;
const artifacts = process.env.CONSOLED_ARTIFACTS || "artifacts";
const autoJoin = process.env.CONSOLED_AUTO_JOIN === "1";
const executablePath = process.env.CONSOLED_CHROMIUM || "/usr/bin/chromium";
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);
const callbackPath = "/console/sso/callback";

// The development pages of oidc-provider 9.13.3 (see oidc_provider.mjs).
const provider = {
  login: "input[name=login]",
  password: "input[name=password]",
  submit: "button.login-submit", // "Sign-in" on the login page
  consent: "button.login-submit", // "Continue" on the consent page
  logoutYes: 'button[name="logout"][value="yes"]', // "Yes, sign me out"
};

// Runs axe-core in the page and fails on serious or critical violations (evaluated through
// the DevTools protocol, which the page's CSP does not govern).
async function accessible(page, what) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(async () => await window.axe.run(document));
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `${what}: accessibility violations`,
  );
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `sso-${name}.png`), fullPage: true });
}

const onConsoled = (path) => (url) => url.origin === new URL(base).origin && (path === undefined || url.pathname === path);
const onProvider = (url) => url.origin === new URL(issuer).origin;

async function bodyText(page) {
  return (await page.locator("body").innerText().catch(() => "")).slice(0, 2000);
}

// A fresh browser context (cookies of its own) with its page. Records the callback URLs it
// loads, script errors, 404s from consoled and anything sent elsewhere than consoled and the
// provider (the provider pages' Google font aside, which cannot resolve).
async function fresh(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const callbacks = [];
  const problems = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (onConsoled(callbackPath)(url)) callbacks.push(request.url());
    if (!onConsoled()(url) && !onProvider(url) && url.protocol !== "data:" && url.hostname !== "fonts.googleapis.com") {
      problems.push(`request to ${request.url()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`script error: ${error}`));
  page.on("response", (response) => {
    if (response.status() === 404 && onConsoled()(new URL(response.url()))) problems.push(`404: ${response.url()}`);
  });
  const check = () => assert.deepEqual(problems, [], "no script errors, 404s or requests elsewhere");
  return { context, page, callbacks, check };
}

// From consoled's login page to the provider's login page.
async function startSso(page, shots, axe) {
  const login = await page.goto(`${base}/console/login`);
  assert.equal(login.status(), 200, "GET /console/login");
  const link = page.locator("a#sso-sign-in");
  await link.waitFor();
  assert.match(await link.innerText(), /single sign-on/i, "the link says single sign-on");
  if (shots) await shot(page, `${shots}-console-login`);
  if (axe) await accessible(page, "the console's login page");
  await Promise.all([page.waitForURL(onProvider), link.click()]);
  await page.locator(provider.login).waitFor();
  assert.equal(await page.locator(".login-card h1").innerText(), "Sign-in", "the provider's login page");
}

// Signs in at the provider as `login` (any password), consents, and waits until the browser
// is back on consoled (the clusters list, or the callback's refusal). Returns the status of
// consoled's answer to the callback.
async function atProvider(page, login, shots) {
  const answer = page.waitForResponse((r) => onConsoled(callbackPath)(new URL(r.url())));
  answer.catch(() => {});
  await page.fill(provider.login, login);
  await page.fill(provider.password, "any password");
  if (shots) await shot(page, `${shots}-provider-login`);
  await page.click(provider.submit);
  // The consent page (every fresh browser gets it), unless the provider sent us straight back.
  const consent = page.locator(provider.consent, { hasText: "Continue" });
  const back = page.waitForURL(onConsoled());
  back.catch(() => {});
  await Promise.race([consent.waitFor(), back]);
  if (onProvider(new URL(page.url()))) {
    assert.equal(await page.locator(".login-card h1").innerText(), "Authorize", "the provider's consent page");
    if (shots) await shot(page, `${shots}-provider-consent`);
    await Promise.all([page.waitForURL(onConsoled()), consent.click()]);
  } else {
    await back;
  }
  const response = await answer;
  await page.waitForLoadState();
  return response.status();
}

async function signIn(page, login, shots) {
  await startSso(page, shots, shots === "1");
  return atProvider(page, login, shots);
}

function assertRedirect(status, message) {
  assert.ok(status >= 300 && status < 400, `${message} (status ${status})`);
}

async function expectSignedIn(page, email, shots) {
  const url = new URL(page.url());
  assert.equal(url.pathname, "/console", `signed in, on the clusters list (at ${url}): ${await bodyText(page)}`);
  await page.locator("h1", { hasText: "Clusters" }).waitFor();
  const who = page.locator("#signed-in-as");
  assert.match(await who.innerText(), new RegExp(email.replace(/[.]/g, "\\.")), "#signed-in-as shows the member's email");
  if (shots) await shot(page, `${shots}-clusters`);
}

async function expectRefused(page, status, reason, shots, what) {
  const text = await bodyText(page);
  assert.equal(status, 403, `${what}: the callback answers 403 (at ${page.url()}): ${text}`);
  assert.equal((await page.locator("h1").first().innerText()).trim(), "Sign-in refused", `${what}: the refusal page's heading: ${text}`);
  if (reason) assert.match(text, reason, `${what}: the refusal says why`);
  if (shots) await shot(page, `${shots}-refused`);
}

async function jwksFetches() {
  const res = await fetch(`${control}/jwks-fetches`);
  assert.equal(res.status, 200, "GET /__test/jwks-fetches");
  return (await res.json()).count;
}

// Signs out with the console's button: consoled ends its session and sends the browser to the
// provider's end_session endpoint (client_id, post_logout_redirect_uri); the provider asks,
// "Yes, sign me out", and sends it back to the console's login page; /console then redirects
// there too.
async function signOut(page, shots) {
  const ends = [];
  const onRequest = (request) => {
    const url = new URL(request.url());
    if (onProvider(url) && url.pathname === "/session/end") ends.push(url);
  };
  page.on("request", onRequest);
  await Promise.all([page.waitForURL(onProvider), page.click("button#sign-out")]);
  const yes = page.locator(provider.logoutYes);
  await yes.waitFor({ timeout: 10_000 }).catch(async () => {
    assert.fail(`the provider's logout confirmation (at ${page.url()}; an id_token_hint signed with a key no longer in the JWKS is refused, client_id is enough): ${await bodyText(page)}`);
  });
  page.off("request", onRequest);
  assert.equal(ends.length, 1, "one request to the provider's end_session endpoint");
  assert.equal(ends[0].searchParams.get("client_id"), "consoled", "end_session gets client_id");
  assert.equal(ends[0].searchParams.get("post_logout_redirect_uri"), `${base}/console/login`, "end_session gets post_logout_redirect_uri");
  assert.equal((await yes.innerText()).trim(), "Yes, sign me out");
  if (shots) await shot(page, `${shots}-provider-logout`);
  await Promise.all([page.waitForURL(onConsoled("/console/login")), yes.click()]);
  await page.locator("a#sso-sign-in").waitFor();
  if (shots) await shot(page, `${shots}-signed-out`);
  const again = await page.goto(`${base}/console`);
  assert.equal(new URL(page.url()).pathname, "/console/login", `signed out: /console sends to the login page (status ${again?.status()})`);
}

test("single sign-on to the console through an OpenID provider", {
  skip: !(base && issuer && control) && "CONSOLED_URL, OIDC_ISSUER and OIDC_CONTROL are not set",
  timeout: 300_000,
}, async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ],
  });
  let alice = null;
  try {
    await t.test("1. alice, a member, signs in with single sign-on", async () => {
      alice = await fresh(browser);
      const status = await signIn(alice.page, "alice", "1");
      assertRedirect(status, `the callback redirects (at ${alice.page.url()}): ${await bodyText(alice.page)}`);
      await expectSignedIn(alice.page, "alice@acme.test", "1");
      alice.check();
    });

    await t.test("2. bob, not a member, is refused", async () => {
      const bob = await fresh(browser);
      try {
        const status = await signIn(bob.page, "bob", "2");
        await expectRefused(bob.page, status, /not a member/i, "2", "bob");
        await accessible(bob.page, "the refusal page");
        bob.check();
      } finally {
        await bob.context.close();
      }
    });

    await t.test("3. carol, whose email is not verified, is refused", async () => {
      const carol = await fresh(browser);
      try {
        const status = await signIn(carol.page, "carol", "3");
        await expectRefused(carol.page, status, /not verified/i, "3", "carol");
        carol.check();
      } finally {
        await carol.context.close();
      }
    });

    await t.test("4. a tampered state and a replayed code are refused", async () => {
      // The provider's redirect to the callback reaches consoled with another state.
      const tampered = await fresh(browser);
      try {
        const cdp = await tampered.context.newCDPSession(tampered.page);
        const rewritten = [];
        cdp.on("Fetch.requestPaused", async (event) => {
          const url = new URL(event.request.url);
          if (url.pathname === callbackPath && rewritten.length === 0) {
            url.searchParams.set("state", `${url.searchParams.get("state") ?? ""}tampered`);
            rewritten.push(url.href);
            await cdp.send("Fetch.continueRequest", { requestId: event.requestId, url: url.href });
          } else {
            await cdp.send("Fetch.continueRequest", { requestId: event.requestId });
          }
        });
        await cdp.send("Fetch.enable", { patterns: [{ urlPattern: `*${callbackPath}*`, requestStage: "Request" }] });
        const status = await signIn(tampered.page, "alice", "4a");
        await cdp.send("Fetch.disable");
        assert.equal(rewritten.length, 1, "the callback was caught and its state changed");
        await expectRefused(tampered.page, status, /state/i, "4a", "a tampered state");

        // No state at all.
        const code = new URL(rewritten[0]).searchParams.get("code");
        const missing = await tampered.page.goto(`${base}${callbackPath}?${new URLSearchParams({ code, iss: issuer })}`);
        await expectRefused(tampered.page, missing.status(), /state/i, "4b", "a missing state");
        tampered.check();
      } finally {
        await tampered.context.close();
      }

      // A code that worked once, loaded again with its state in the same browser.
      const replay = await fresh(browser);
      try {
        const status = await signIn(replay.page, "alice", null);
        assertRedirect(status, `alice's callback redirects: ${await bodyText(replay.page)}`);
        await expectSignedIn(replay.page, "alice@acme.test", null);
        assert.equal(replay.callbacks.length, 1, "one callback");
        const again = await replay.page.goto(replay.callbacks[0]);
        await expectRefused(replay.page, again.status(), null, "4c", "a replayed code");
        replay.check();
      } finally {
        await replay.context.close();
      }
    });

    await t.test("5. the provider rotates its signing key: alice signs out and in again", async () => {
      assert.ok(alice, "alice's browser from step 1");
      const before = await jwksFetches();
      const rotated = await fetch(`${control}/rotate-keys`, { method: "POST" });
      assert.equal(rotated.status, 200, "POST /__test/rotate-keys");
      await signOut(alice.page, "5");
      alice.check();
      await alice.context.close();

      alice = await fresh(browser);
      const status = await signIn(alice.page, "alice", "5");
      assertRedirect(status, `the callback redirects after the rotation (at ${alice.page.url()}): ${await bodyText(alice.page)}`);
      await expectSignedIn(alice.page, "alice@acme.test", "5");
      const after = await jwksFetches();
      assert.ok(after > before, `consoled fetched the provider's new keys (JWKS fetches ${before} -> ${after})`);
      alice.check();
    });

    await t.test(`6. dave, of auto.test, ${autoJoin ? "joins by auto-join" : "is refused without auto-join"}`, async () => {
      const dave = await fresh(browser);
      try {
        const status = await signIn(dave.page, "dave", "6");
        if (autoJoin) {
          assertRedirect(status, `dave's callback redirects: ${await bodyText(dave.page)}`);
          await expectSignedIn(dave.page, "dave@auto.test", "6");
        } else {
          await expectRefused(dave.page, status, /not a member/i, "6", "dave");
        }
        dave.check();
      } finally {
        await dave.context.close();
      }
    });

    await t.test("7. signing out goes through the provider's logout", async () => {
      assert.ok(alice, "alice's browser from step 5");
      await expectSignedIn(alice.page, "alice@acme.test", null);
      await signOut(alice.page, "7");
      alice.check();
    });
  } finally {
    if (alice) await alice.context.close().catch(() => {});
    await browser.close();
  }
});
