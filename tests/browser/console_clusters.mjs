// The console's cluster pages in a real headless browser (Debian's chromium, driven by
// playwright-core): from a fresh server the owner follows the first start's link, sets a
// password, signs in, creates a cluster with the form, sees it turn Healthy on the list
// without a reload (assets/console.js polling the status JSON), opens its page, creates an
// API client and downloads its credentials file; then invites a member on the members page
// and finds it in the activity. Each page is checked with axe-core (no serious or critical
// violations) and saved as a screenshot in CONSOLED_ARTIFACTS.
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

test("the owner signs in, creates a cluster and watches it turn Healthy", { skip: !base && "CONSOLED_URL is not set", timeout: 120_000 }, async () => {
  mkdirSync(artifacts, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), "consoled-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
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
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const foreign = [];
    const errors = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(base) && !url.startsWith("data:")) foreign.push(url);
    });
    page.on("console", (message) => {
      if (message.type() === "error") {
        errors.push(message.text());
      }
    });
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("response", (response) => {
      if (response.status() === 404) errors.push(`404: ${response.url()}`);
    });

    // The first start's link: set a password.
    const linked = await page.goto(ownerLink);
    assert.equal(linked.status(), 200);
    await shot(page, "1-set-password");
    await page.fill("#password", password);
    await page.fill("#confirm", password);
    await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);

    // Sign in (the link may have signed in already).
    if (page.url().includes("/console/login")) {
      await shot(page, "2-login");
      await page.fill("#email", ownerEmail);
      await page.fill("#password", password);
      await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    }
    assert.equal(
      new URL(page.url()).pathname,
      "/console",
      await page.locator("main").innerText(),
    );
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

    // The organization's pages: invite a member (the link shown once), then the activity
    // filtered to it and downloaded as CSV; both pages fit a 360px wide screen.
    await Promise.all([page.waitForNavigation(), page.click("nav.sections a[href='/console/members']")]);
    await accessible(page, "the members page");
    await page.fill("#invite-email", "browser-dev@example.com");
    await page.check("form[action='/console/members'] input[value=developer]");
    await Promise.all([page.waitForNavigation(), page.click("form[action='/console/members'] button[type=submit]")]);
    assert.match(await page.locator("#sign-in-link").textContent(), /\/console\/links\/\w+$/);
    await shot(page, "9-member-invited");
    await accessible(page, "the invite link page");
    await Promise.all([page.waitForNavigation(), page.click("nav.sections a[href='/console/activity']")]);
    await accessible(page, "the activity page");
    await page.fill("#filter-q", "browser-dev");
    await Promise.all([page.waitForNavigation(), page.click("form.filters button[type=submit]")]);
    assert.equal(await page.locator("tbody tr").count(), 2, "the invite and its link");
    await shot(page, "10-activity");
    const [csv] = await Promise.all([page.waitForEvent("download"), page.click("a[download]")]);
    assert.equal(csv.suggestedFilename(), "activity.csv");
    assert.match(readFileSync(await csv.path(), "utf8"), /^service,orgId,timestamp,/);
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of ["/console/activity", "/console/members"]) {
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
    await shot(page, "11-members-narrow");

    assert.deepEqual(foreign, [], "nothing loaded from outside the server");
    assert.deepEqual(errors, [], "no script errors");
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
});
