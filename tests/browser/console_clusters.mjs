// The web console in a real headless browser (Debian's chromium, driven by playwright-core),
// as the walk-through: from a fresh server the owner follows the first start's link,
// sets a password, signs in, creates a cluster with the form and sees it turn Healthy on the
// list without a reload (assets/console.js polling the status JSON); looks at the list at
// 360 px and in dark mode; opens the cluster's page; creates an API client, copies its
// credentials with the copy button, downloads the credentials file and gets a token with it
// from POST /oauth/token; adds a connector secret; activates monitoring with a client;
// creates a Console API client (at 360 px) and downloads its file; invites a developer, who signs in in a browser of their own
// and can see the cluster but not delete it (no form, and a forged one gets 403); and finds
// every step in the activity, filters it by actor and downloads it as CSV.
// Each page is checked with axe-core (no serious or critical violations) and saved as a
// screenshot in CONSOLED_ARTIFACTS.
//
// Run by tests/api/console_clusters.rs, which starts the server (with a slow provisioning,
// so the list shows the cluster Creating first) and sets CONSOLED_URL,
// CONSOLED_OWNER_LINK, CONSOLED_OWNER_EMAIL and CONSOLED_ARTIFACTS.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.CONSOLED_URL;
const ownerLink = process.env.CONSOLED_OWNER_LINK;
const ownerEmail = process.env.CONSOLED_OWNER_EMAIL;
const artifacts = process.env.CONSOLED_ARTIFACTS || "artifacts";
const executablePath = process.env.CONSOLED_CHROMIUM || "/usr/bin/chromium";
const axeSource = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);
const password = "correct horse battery staple";
const clusterName = "browser-demo";
const developerEmail = "dev@browser.example";

// Runs axe-core in the page and fails on serious or critical violations. Its source is
// evaluated through the DevTools protocol, which the page's CSP (no inline script) does not
// govern, so the page is checked under its real policy.
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
  await page.screenshot({ path: join(artifacts, `console-${name}.png`), fullPage: true });
}

// A browser of its own (profile, cookies): the owner's, or a colleague's on another machine.
async function launch() {
  const userDataDir = mkdtempSync(join(tmpdir(), "consoled-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    permissions: ["clipboard-read", "clipboard-write"],
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return { page, close };
}

// Fails the test on anything loaded from elsewhere, script errors and 404s.
function watch(page) {
  const foreign = [];
  const errors = [];
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("blob:")) foreign.push(url);
  });
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().includes("403")) errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("response", (response) => {
    if (response.status() === 404) errors.push(`404: ${response.url()}`);
  });
  return () => {
    assert.deepEqual(foreign, [], "nothing loaded from outside the server");
    assert.deepEqual(errors, [], "no script errors");
  };
}

// Sets a password through a one-time link and signs in (if the link did not already).
async function acceptLink(page, link, email, screenshots) {
  const linked = await page.goto(link);
  assert.equal(linked.status(), 200);
  if (screenshots) await shot(page, "1-set-password");
  await accessible(page, "the set-password page");
  await page.fill("#password", password);
  await page.fill("#confirm", password);
  await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
  if (page.url().includes("/console/login")) {
    if (screenshots) await shot(page, "2-login");
    await accessible(page, "the login page");
    await page.fill("#email", email);
    await page.fill("#password", password);
    await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
  }
  assert.equal(new URL(page.url()).pathname, "/console", await page.locator("main").innerText());
}

test("the owner signs in, creates a cluster and watches it turn Healthy", { skip: !base && "CONSOLED_URL is not set", timeout: 180_000 }, async () => {
  mkdirSync(artifacts, { recursive: true });
  const { page, close } = await launch();
  let colleague = null;
  try {
    const checkWatched = watch(page);
    // The first start's link: set a password, sign in.
    await acceptLink(page, ownerLink, ownerEmail, true);
    await shot(page, "3-clusters-empty");

    // Create a cluster with the form.
    await Promise.all([page.waitForNavigation(), page.click("a[href='/console/clusters/new']")]);
    await page.fill("#name", clusterName);
    await page.selectOption("#stage_label", "dev");
    await shot(page, "4-create");
    await accessible(page, "the create form");
    await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    assert.match(new URL(page.url()).pathname, /^\/console\/clusters\/[0-9a-f-]{36}$/);
    const clusterPath = new URL(page.url()).pathname;
    await page.locator("h1", { hasText: clusterName }).waitFor();

    // The list: Creating at first, then Healthy without a reload.
    await Promise.all([page.waitForNavigation(), page.click("a[href='/console']")]);
    const cell = page.locator(`[data-component=ready]`).first();
    assert.equal(await cell.textContent(), "Creating");
    await shot(page, "5-clusters-creating");
    await accessible(page, "the clusters list");
    await page.evaluate(() => { window.__sameDocument = true; });
    let navigations = 0;
    page.on("framenavigated", (frame) => { if (frame === page.mainFrame()) navigations += 1; });
    await page.waitForFunction(
      () => document.querySelector("[data-component=ready]").textContent === "Healthy",
      null,
      { timeout: 60_000 },
    );
    assert.equal(navigations, 0, "the page was not reloaded");
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
    assert.match(await cell.getAttribute("class"), /status-healthy/);
    await shot(page, "6-clusters-healthy");

    // At 360 px wide and in dark mode: nothing wider than the screen, still accessible.
    await page.setViewportSize({ width: 360, height: 740 });
    assert.ok(
      await page.evaluate(() => document.documentElement.scrollWidth <= 360),
      "the list fits 360 px",
    );
    await shot(page, "6-clusters-360px");
    await page.emulateMedia({ colorScheme: "dark" });
    await accessible(page, "the clusters list, dark, 360 px");
    await shot(page, "6-clusters-dark-360px");
    await page.setViewportSize({ width: 1280, height: 800 });
    await shot(page, "6-clusters-dark");
    await page.emulateMedia({ colorScheme: "light" });

    // The cluster's page.
    await Promise.all([page.waitForNavigation(), page.click(`a[href='${clusterPath}']`)]);
    assert.equal(await page.locator("[data-component=ready]").textContent(), "Healthy");
    assert.equal(await page.locator("[data-component=zeebe]").textContent(), "Healthy");
    assert.ok(await page.locator("button.copy").count() >= 1, "copy buttons");
    await shot(page, "7-cluster");
    await accessible(page, "the cluster page");

    // An API client: the secret once, and the credentials file downloaded.
    await Promise.all([page.waitForNavigation(), page.click(`a[href='${clusterPath}/clients']`)]);
    await accessible(page, "the API clients page");
    await page.fill("#client-name", "browser-worker");
    await Promise.all([page.waitForNavigation(), page.click("main form[action$='/clients'] button[type=submit]")]);
    await page.locator("h1", { hasText: "browser-worker" }).waitFor();
    await shot(page, "8-client-created");
    await accessible(page, "the created client page");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("a.download"),
    ]);
    assert.match(download.suggestedFilename(), /^credentials-browser-worker\.env$/);
    const file = readFileSync(await download.path(), "utf8");
    for (const name of ["ZEEBE_ADDRESS", "ZEEBE_CLIENT_ID", "ZEEBE_CLIENT_SECRET", "CAMUNDA_OAUTH_URL"]) {
      assert.match(file, new RegExp(`^export ${name}='`, "m"), name);
    }
    // Copied with its button: the clipboard holds the same file.
    await page.locator("pre[data-download] ~ button.copy").first().click();
    await page.locator("pre[data-download] ~ button.copy", { hasText: "Copied" }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, file);
    // The credentials get a token from consoled's token endpoint.
    const env = Object.fromEntries(
      [...file.matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]),
    );
    const tokenResponse = await fetch(env.CAMUNDA_OAUTH_URL, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: env.ZEEBE_CLIENT_ID,
        client_secret: env.ZEEBE_CLIENT_SECRET,
        audience: env.ZEEBE_TOKEN_AUDIENCE,
      }),
    });
    assert.equal(tokenResponse.status, 200, await tokenResponse.clone().text());
    const token = await tokenResponse.json();
    assert.equal(token.token_type, "Bearer");
    assert.ok(token.access_token.split(".").length === 3, "a JWT");

    // A connector secret: added, listed by name, its value hidden until revealed.
    await page.goto(base + clusterPath + "/secrets");
    await page.fill("#secret-name", "SLACK_TOKEN");
    await page.fill("#secret-value", "xoxb-browser-secret");
    await Promise.all([page.waitForNavigation(), page.click("main form[action$='/secrets'] button[type=submit]")]);
    await page.locator("th", { hasText: "SLACK_TOKEN" }).waitFor();
    assert.equal(await page.locator("main").innerText().then((t) => t.includes("xoxb-browser-secret")), false);
    await shot(page, "9-secrets");
    await accessible(page, "the connector secrets page");

    // The cluster's monitoring: activate it, create a client (the password once).
    await page.goto(`${base}${clusterPath}/monitoring`);
    await accessible(page, "the monitoring tab");
    await Promise.all([page.waitForNavigation(), page.click("main form[action$='/monitoring/activate'] button")]);
    await page.fill("#monitoring-username", "prometheus");
    await shot(page, "9-monitoring");
    await accessible(page, "the active monitoring tab");
    await Promise.all([page.waitForNavigation(), page.click("main form[action$='/monitoring/clients'] button[type=submit]")]);
    await page.locator("h1", { hasText: "prometheus" }).waitFor();
    await shot(page, "9-monitoring-client-created");
    await accessible(page, "the created monitoring client page");

    // The organization's Console API clients, on a 360px wide screen: nothing wider than
    // the screen but the scrolling table regions.
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(`${base}/console/api-clients`);
    assert.ok(
      await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      "the API clients page fits 360px",
    );
    await accessible(page, "the Console API clients page");
    await page.fill("#api-client-name", "browser-terraform");
    await page.check("input[name=scope][value='get:clusters']");
    await shot(page, "10-api-clients");
    await Promise.all([page.waitForNavigation(), page.click("main form[action='/console/api-clients'] button[type=submit]")]);
    await page.locator("h1", { hasText: "browser-terraform" }).waitFor();
    await shot(page, "11-api-client-created");
    await accessible(page, "the created Console API client page");
    const [envDownload] = await Promise.all([
      page.waitForEvent("download"),
      page.click("a.download"),
    ]);
    assert.equal(envDownload.suggestedFilename(), "console-api-browser-terraform.env");
    const envFile = readFileSync(await envDownload.path(), "utf8");
    for (const name of ["CAMUNDA_CONSOLE_CLIENT_ID", "CAMUNDA_CONSOLE_CLIENT_SECRET", "CAMUNDA_OAUTH_URL"]) {
      assert.match(envFile, new RegExp(`^export ${name}='`, "m"), name);
    }
    await page.goto(`${base}/console/api-clients`);
    await Promise.all([page.waitForNavigation(), page.click("a[aria-label='Rotate secret of browser-terraform']")]);
    await accessible(page, "the rotate confirmation");
    await page.setViewportSize({ width: 1280, height: 800 });

    // Invite a developer: the page shows the one-time link to hand over.
    await page.goto(base + "/console/members");
    await accessible(page, "the members page");
    await page.fill("#invite-email", developerEmail);
    await page.check("main form[action='/console/members'] input[name=role][value=developer]");
    await Promise.all([page.waitForNavigation(), page.click("main form[action='/console/members'] button[type=submit]")]);
    const inviteLink = (await page.locator("#sign-in-link").textContent()).trim();
    assert.match(inviteLink, /\/console\/links\//);
    await shot(page, "12-member-invited");
    await accessible(page, "the invite link page");
    await page.goto(base + "/console/members");
    await shot(page, "13-members");

    // The developer, in a browser of their own, signs in, sees the cluster and cannot
    // delete it: no form for it, and a forged one is refused by the server.
    colleague = await launch();
    const dev = colleague.page;
    const checkDev = watch(dev);
    await acceptLink(dev, inviteLink, developerEmail, false);
    await dev.locator(`a[href='${clusterPath}']`).waitFor();
    await accessible(dev, "the clusters list, as a developer");
    await Promise.all([dev.waitForNavigation(), dev.click(`a[href='${clusterPath}']`)]);
    assert.equal(await dev.locator("[data-component=ready]").textContent(), "Healthy");
    assert.equal(await dev.locator(`form[action='${clusterPath}/delete']`).count(), 0);
    assert.equal(await dev.locator("nav.sections a[href='/console/members']").count(), 0);
    await shot(dev, "14-developer-cluster");
    await accessible(dev, "the cluster page, as a developer");
    const forged = await dev.evaluate(async ([path, name]) => {
      const csrf = document.querySelector("form[action='/console/logout'] input[name=csrf]").value;
      const response = await fetch(path + "/delete", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf, name }),
      });
      return response.status;
    }, [clusterPath, clusterName]);
    assert.equal(forged, 403);
    await dev.reload();
    assert.equal(await dev.locator("h1").textContent(), clusterName);
    checkDev();

    // The activity lists every step, with who did it; filtered by actor; as CSV.
    await page.goto(base + "/console/activity");
    const activity = await page.locator("main table").innerText();
    for (const step of [clusterName, "browser-worker", "SLACK_TOKEN", "prometheus", "browser-terraform", developerEmail]) {
      assert.ok(activity.includes(step), `the activity shows ${step}:\n${activity}`);
    }
    assert.ok(activity.includes(ownerEmail));
    await shot(page, "15-activity");
    await accessible(page, "the activity page");
    await page.fill("#filter-actor", developerEmail);
    await Promise.all([page.waitForNavigation(), page.click("main form.filters button[type=submit]")]);
    const actors = await page.locator("main table tbody tr td:nth-child(2)").allInnerTexts();
    assert.ok(actors.length >= 1, "the developer's sign-in is listed");
    assert.ok(actors.every((a) => a.trim() === developerEmail), actors.join(", "));
    const [csv] = await Promise.all([page.waitForEvent("download"), page.click("a[href*='activity.csv']")]);
    assert.equal(csv.suggestedFilename(), "activity.csv");
    const csvText = readFileSync(await csv.path(), "utf8");
    assert.match(csvText, /^service,orgId,timestamp,/);
    assert.ok(csvText.includes(developerEmail));

    // The organization's pages fit a 360 px wide screen (only the table regions scroll).
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of ["/console/activity", "/console/members", "/console/api-clients", clusterPath]) {
      await page.goto(base + path);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      // What sticks out (outside the scrolling table regions), to say why.
      const wide = await page.evaluate(() =>
        Array.from(document.querySelectorAll("body *"))
          .filter((e) => !e.closest(".scroll") && e.getBoundingClientRect().right > 360)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`),
      );
      assert.ok(width <= 360, `${path} is ${width}px wide at 360px: ${wide.join(", ")}`);
    }
    await shot(page, "16-cluster-360px");
    await page.setViewportSize({ width: 1280, height: 800 });

    checkWatched();
  } finally {
    if (colleague) await colleague.close();
    await close();
  }
});
