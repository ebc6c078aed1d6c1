// The /docs page in a real headless browser (Debian's chromium, driven by playwright-core):
// it loads with nothing from outside the server, lists every operation of /openapi.json,
// takes a bearer token in "Authorize", and "Try it out" on GET /clusters answers 200 with
// the seeded cluster.
//
// Run by tests/api/docs_page.rs, which starts the server and sets CONSOLED_URL,
// CONSOLED_TOKEN and CONSOLED_CLUSTER_NAME.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.CONSOLED_URL;
const token = process.env.CONSOLED_TOKEN;
const clusterName = process.env.CONSOLED_CLUSTER_NAME;
const executablePath = process.env.CONSOLED_CHROMIUM || "/usr/bin/chromium";

test("the docs page lists the operations and tries a call with a token", { skip: !base && "CONSOLED_URL is not set", timeout: 120_000 }, async () => {
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
    const consoleErrors = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("blob:")) {
        foreign.push(url);
      }
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });

    const response = await page.goto(`${base}/docs`);
    assert.equal(response.status(), 200);

    // Every operation of the document is listed, by its operation id.
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    const expected = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).map((operation) => operation.operationId),
    );
    await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
    const listed = await page.locator(".opblock-summary-operation-id").allTextContents();
    const missing = expected.filter((id) => !listed.map((t) => t.trim()).includes(id));
    assert.deepEqual(missing, [], "operations missing from the page");

    // Authorize with the bearer token.
    await page.locator("button.authorize").first().click();
    const bearer = page.locator(".auth-container", { hasText: "bearer" }).first();
    await bearer.locator("input").first().fill(token);
    await bearer.locator("button.authorize").click();
    await page.locator("button.btn-done").first().click();

    // Try GET /clusters.
    const operation = page.locator("#operations-Clusters-GetClusters");
    await operation.locator(".opblock-summary").first().click();
    await operation.locator("button.try-out__btn").click();
    const call = page.waitForRequest((r) => r.url() === `${base}/clusters` && r.method() === "GET");
    await operation.locator("button.execute").click();
    const request = await call;
    assert.equal(request.headers()["authorization"], `Bearer ${token}`);
    const status = operation.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor({ timeout: 30_000 });
    assert.equal((await status.textContent()).trim(), "200");
    const body = await operation.locator(".live-responses-table .response .response-col_description").first().textContent();
    assert.ok(body.includes(clusterName), `the response shows the seeded cluster: ${body.slice(0, 500)}`);

    assert.deepEqual(foreign, [], "requests to anywhere but this server");
    assert.deepEqual(consoleErrors, [], "errors in the browser console");
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
});
