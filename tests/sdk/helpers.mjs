// Shared helpers for the @camunda8/sdk AdminApiClient tests against consoled.
// Not a test file itself (node --test only runs the files it is given).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// The SDK is CommonJS; from ESM only its default export is visible.
import c8 from '@camunda8/sdk'

export const { AdminApiClient } = c8.Admin

/** Audience the SDK sends for Console (Administration API) tokens. */
export const CONSOLE_AUDIENCE = 'api.cloud.camunda.io'
/** Audience a Zeebe worker uses when exchanging a cluster client's credentials. */
export const ZEEBE_AUDIENCE = 'zeebe.camunda.io'

export const CLUSTER_STATES = [
  'Creating',
  'Healthy',
  'Unhealthy',
  'Updating',
  'Resuming',
  'Suspended',
]

/**
 * Reads CONSOLED_URL / CONSOLED_CLIENT_ID / CONSOLED_CLIENT_SECRET.
 * Returns { skip } (a reason string) when CONSOLED_URL is unset.
 */
export function readEnv() {
  const raw = process.env.CONSOLED_URL
  if (!raw) {
    return { skip: 'CONSOLED_URL is not set; start consoled and export CONSOLED_URL' }
  }
  const url = raw.replace(/\/+$/, '')
  return {
    skip: false,
    url,
    tokenUrl: `${url}/oauth/token`,
    clientId: process.env.CONSOLED_CLIENT_ID ?? '',
    clientSecret: process.env.CONSOLED_CLIENT_SECRET ?? '',
  }
}

/**
 * Builds an AdminApiClient pointed at consoled.
 *
 * Notes (see NOTES.md):
 * - For a token URL that is not login.cloud.camunda.io the SDK uses
 *   ZEEBE_CLIENT_ID/ZEEBE_CLIENT_SECRET even for Console calls; the
 *   CAMUNDA_CONSOLE_CLIENT_* pair is only consulted for the SaaS host.
 *   We set both pairs to the same credentials.
 * - The on-disk token cache (~/.camunda/oauth-token-<clientId>-CONSOLE.json)
 *   is keyed by client id and audience type only, not by server, so a token
 *   from another server/run would be reused. Disable it, and point the cache
 *   dir at a throwaway directory in case something re-enables it.
 */
export function makeAdminClient(env) {
  const cacheDir = mkdtempSync(join(tmpdir(), 'consoled-sdk-cache-'))
  const client = new AdminApiClient({
    config: {
      CAMUNDA_CONSOLE_BASE_URL: env.url,
      CAMUNDA_OAUTH_URL: env.tokenUrl,
      CAMUNDA_AUTH_STRATEGY: 'OAUTH',
      CAMUNDA_OAUTH_DISABLED: false,
      ZEEBE_CLIENT_ID: env.clientId,
      ZEEBE_CLIENT_SECRET: env.clientSecret,
      CAMUNDA_CONSOLE_CLIENT_ID: env.clientId,
      CAMUNDA_CONSOLE_CLIENT_SECRET: env.clientSecret,
      CAMUNDA_CONSOLE_OAUTH_AUDIENCE: CONSOLE_AUDIENCE,
      CAMUNDA_TOKEN_DISK_CACHE_DISABLE: true,
      CAMUNDA_TOKEN_CACHE_DIR: cacheDir,
      // Fail fast on token errors instead of the Self-Managed back-off.
      CAMUNDA_OAUTH_FAIL_ON_ERROR: true,
      CAMUNDA_LOG_LEVEL: 'warn',
    },
  })
  const cleanup = () => rmSync(cacheDir, { recursive: true, force: true })
  return { client, cleanup }
}

/** Decodes the payload of a JWT (no signature check). */
export function decodeJwtPayload(token) {
  assert.equal(typeof token, 'string', 'access_token must be a string')
  const parts = token.split('.')
  assert.equal(parts.length, 3, 'access_token must be a JWT (header.payload.signature)')
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  assert.equal(typeof payload, 'object', 'JWT payload must be a JSON object')
  assert.ok(payload !== null, 'JWT payload must not be null')
  return payload
}

/**
 * Client-credentials request exactly as the JS SDK sends it: form-encoded,
 * audience first, not URL-encoded; client id and secret URL-encoded.
 */
export async function requestToken(tokenUrl, { clientId, clientSecret, audience }) {
  const body =
    `audience=${audience}&client_id=${encodeURIComponent(clientId)}` +
    `&client_secret=${encodeURIComponent(clientSecret)}&grant_type=client_credentials`
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: '*/*',
    },
    body,
  })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

/**
 * Asserts that `promise` rejects with an HTTP error of the given status.
 * The SDK's HTTPError overwrites err.statusCode with the `status` field of the
 * JSON error body (0 if the body is not JSON), so read the real status from
 * err.response.statusCode.
 */
export async function expectStatus(promise, status, what = '') {
  await assert.rejects(promise, (err) => {
    const actual = err?.response?.statusCode
    assert.equal(
      actual,
      status,
      `${what ? `${what}: ` : ''}expected HTTP ${status}, got ${actual ?? 'no response'} (${err?.message})`,
    )
    return true
  })
}

/** Returns the HTTP status of a rejected SDK call, or undefined if it resolved. */
export async function statusOf(promise) {
  try {
    await promise
    return undefined
  } catch (err) {
    if (err?.response?.statusCode === undefined) throw err
    return err.response.statusCode
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Polls getCluster until status.ready is Healthy. While waiting, only
 * Creating/Updating/Resuming are acceptable (the Terraform provider aborts on
 * anything else).
 */
export async function waitHealthy(client, uuid, { timeoutMs = 60_000, intervalMs = 1_000 } = {}) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    const cluster = await client.getCluster(uuid)
    last = cluster?.status?.ready
    if (last === 'Healthy') return cluster
    assert.ok(
      ['Creating', 'Updating', 'Resuming'].includes(last),
      `cluster ${uuid} is in unexpected state ${JSON.stringify(last)} while waiting for Healthy`,
    )
    if (Date.now() > deadline) {
      assert.fail(`cluster ${uuid} not Healthy after ${timeoutMs} ms (last status.ready=${last})`)
    }
    await sleep(intervalMs)
  }
}

/** Picks the creation parameters from getParameters() as the flow prescribes. */
export function pickCreateBody(params, name) {
  assert.ok(Array.isArray(params.channels) && params.channels.length > 0, 'parameters.channels is empty')
  assert.ok(Array.isArray(params.regions) && params.regions.length > 0, 'parameters.regions is empty')
  assert.ok(
    Array.isArray(params.clusterPlanTypes) && params.clusterPlanTypes.length > 0,
    'parameters.clusterPlanTypes is empty',
  )
  const channel = params.channels[0]
  return {
    name,
    channelId: channel.uuid,
    generationId: channel.defaultGeneration.uuid,
    regionId: params.regions[0].uuid,
    planTypeId: params.clusterPlanTypes[0].uuid,
  }
}

/**
 * Sequential steps inside one test: once a step fails, the remaining steps are
 * skipped instead of failing with confusing follow-on errors.
 */
export function stepper(t) {
  let broken = null
  return (name, fn) =>
    t.test(name, { skip: broken ? `earlier step failed: ${broken}` : false }, async (st) => {
      try {
        await fn(st)
      } catch (e) {
        broken = name
        throw e
      }
    })
}

export const isNonEmptyString = (v) => typeof v === 'string' && v.length > 0

export const uniqueSuffix = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
