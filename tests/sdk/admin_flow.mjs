// End-to-end flow of the Camunda 8 JS SDK's AdminApiClient against consoled.
//
//   CONSOLED_URL=http://127.0.0.1:8080 CONSOLED_CLIENT_ID=... CONSOLED_CLIENT_SECRET=... \
//     node --test tests/sdk/admin_flow.mjs
//
// Skips (does not fail) when CONSOLED_URL is unset.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  CLUSTER_STATES,
  ZEEBE_AUDIENCE,
  decodeJwtPayload,
  expectStatus,
  isNonEmptyString,
  makeAdminClient,
  pickCreateBody,
  readEnv,
  requestToken,
  stepper,
  uniqueSuffix,
  waitHealthy,
} from './helpers.mjs'

const env = readEnv()

test('AdminApiClient: cluster + API client lifecycle', { skip: env.skip }, async (t) => {
  const { client: admin, cleanup } = makeAdminClient(env)
  const step = stepper(t)
  const s = {} // state shared between steps

  t.after(async () => {
    // Best-effort cleanup if a step failed half-way.
    if (s.clusterUuid && !s.clusterDeleted) {
      if (s.client && !s.clientDeleted) {
        await admin.deleteClient(s.clusterUuid, s.client.clientId).catch(() => {})
      }
      await admin.deleteCluster(s.clusterUuid).catch(() => {})
    }
    cleanup()
  })

  await step('getParameters', async () => {
    const params = await admin.getParameters()
    assert.equal(typeof params, 'object')
    for (const key of ['channels', 'regions', 'clusterPlanTypes']) {
      assert.ok(Array.isArray(params[key]), `parameters.${key} must be an array`)
      assert.ok(params[key].length > 0, `parameters.${key} must not be empty`)
    }
    for (const ch of params.channels) {
      assert.ok(isNonEmptyString(ch.uuid) && isNonEmptyString(ch.name), 'channel uuid/name')
      assert.ok(isNonEmptyString(ch.defaultGeneration?.uuid), 'channel.defaultGeneration.uuid')
      assert.ok(Array.isArray(ch.allowedGenerations), 'channel.allowedGenerations')
    }
    s.params = params
    s.createBody = pickCreateBody(params, `sdk-flow-${uniqueSuffix()}`)
  })

  await step('createCluster answers {clusterId}', async () => {
    const res = await admin.createCluster(s.createBody)
    assert.ok(isNonEmptyString(res?.clusterId), `createCluster must return {clusterId}, got ${JSON.stringify(res)}`)
    s.clusterUuid = res.clusterId
  })

  await step('getCluster until status.ready == Healthy (60s)', async () => {
    const cluster = await waitHealthy(admin, s.clusterUuid, { timeoutMs: 60_000 })
    assert.equal(cluster.uuid, s.clusterUuid)
    assert.equal(cluster.name, s.createBody.name)
    assert.equal(cluster.channel?.uuid, s.createBody.channelId)
    assert.equal(cluster.generation?.uuid, s.createBody.generationId)
    assert.equal(cluster.region?.uuid, s.createBody.regionId)
    assert.equal(cluster.planType?.uuid, s.createBody.planTypeId)
    assert.ok(isNonEmptyString(cluster.ownerId), 'ownerId')
    assert.equal(typeof cluster.autoUpdate, 'boolean', 'autoUpdate')
    assert.ok(isNonEmptyString(cluster.created), 'created')
    assert.ok(!Number.isNaN(Date.parse(cluster.created)), `created must be RFC 3339, got ${cluster.created}`)
    assert.equal(typeof cluster.links, 'object', 'links')
    if (cluster.links.zeebe !== undefined) {
      assert.ok(!cluster.links.zeebe.includes('://'), `links.zeebe must be a bare host, got ${cluster.links.zeebe}`)
    }
    for (const [k, v] of Object.entries(cluster.status)) {
      assert.ok(CLUSTER_STATES.includes(v), `status.${k}=${v} is not a known component status`)
    }
  })

  await step('getClusters contains the new cluster', async () => {
    const clusters = await admin.getClusters()
    assert.ok(Array.isArray(clusters), 'getClusters must return a bare array')
    const found = clusters.find((c) => c.uuid === s.clusterUuid)
    assert.ok(found, 'new cluster missing from getClusters')
    assert.equal(found.name, s.createBody.name)
  })

  await step('createClient({clientName:"sdk-worker"}) returns clientId + clientSecret', async () => {
    // permissions omitted: the SDK then leaves the key out of the JSON body,
    // and the server grants all permissions.
    const created = await admin.createClient({ clusterUuid: s.clusterUuid, clientName: 'sdk-worker' })
    assert.ok(isNonEmptyString(created?.clientId), 'clientId')
    assert.ok(isNonEmptyString(created?.clientSecret), 'clientSecret')
    // Required by the 1.3.3 OpenAPI CreatedClusterClient schema:
    assert.equal(created.name, 'sdk-worker')
    assert.ok(isNonEmptyString(created.uuid), 'uuid')
    assert.ok(Array.isArray(created.permissions), 'permissions')
    s.client = created
  })

  await step('getClients lists it (without its secret)', async () => {
    const clients = await admin.getClients(s.clusterUuid)
    assert.ok(Array.isArray(clients), 'getClients must return a bare array')
    const found = clients.find((c) => c.clientId === s.client.clientId)
    assert.ok(found, 'created client missing from getClients')
    assert.equal(found.name, 'sdk-worker')
    assert.ok(Array.isArray(found.permissions), 'permissions')
    assert.ok(!('clientSecret' in found), 'getClients must not reveal clientSecret')
  })

  await step('getClient returns connection details', async () => {
    const details = await admin.getClient(s.clusterUuid, s.client.clientId)
    assert.equal(details.ZEEBE_CLIENT_ID, s.client.clientId)
    assert.equal(details.name, 'sdk-worker')
    assert.ok(isNonEmptyString(details.ZEEBE_ADDRESS), 'ZEEBE_ADDRESS')
    assert.ok(isNonEmptyString(details.ZEEBE_AUTHORIZATION_SERVER_URL), 'ZEEBE_AUTHORIZATION_SERVER_URL')
    assert.ok(!('clientSecret' in details), 'getClient must not reveal clientSecret')
    assert.ok(!('ZEEBE_CLIENT_SECRET' in details), 'getClient must not reveal ZEEBE_CLIENT_SECRET')
  })

  await step('cluster client credentials get a zeebe.camunda.io JWT (form-encoded)', async () => {
    const res = await requestToken(env.tokenUrl, {
      clientId: s.client.clientId,
      clientSecret: s.client.clientSecret,
      audience: ZEEBE_AUDIENCE,
    })
    assert.equal(res.status, 200, `token endpoint answered ${res.status}: ${res.text}`)
    assert.ok(res.json && typeof res.json === 'object', `token response must be JSON, got ${res.text}`)
    assert.ok(!('error' in res.json), `token response carries error: ${res.text}`)
    const payload = decodeJwtPayload(res.json.access_token)
    // The SDK caches until `exp`; without it, it refetches on every call.
    assert.equal(typeof payload.exp, 'number', 'JWT must carry a numeric exp')
    assert.ok(payload.exp * 1000 > Date.now(), 'JWT exp must be in the future')
    if (payload.aud !== undefined) {
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
      assert.ok(aud.includes(ZEEBE_AUDIENCE), `JWT aud ${JSON.stringify(payload.aud)} lacks ${ZEEBE_AUDIENCE}`)
    }
    // Go's x/oauth2 reads token_type and expires_in.
    assert.match(String(res.json.token_type), /^bearer$/i, 'token_type')
    assert.equal(typeof res.json.expires_in, 'number', 'expires_in')
  })

  await step('deleteClient', async () => {
    await admin.deleteClient(s.clusterUuid, s.client.clientId)
    s.clientDeleted = true
    const clients = await admin.getClients(s.clusterUuid)
    assert.ok(!clients.some((c) => c.clientId === s.client.clientId), 'deleted client still listed')
    await expectStatus(admin.getClient(s.clusterUuid, s.client.clientId), 404, 'getClient after delete')
  })

  await step('deleteCluster', async () => {
    await admin.deleteCluster(s.clusterUuid)
    s.clusterDeleted = true
  })

  await step('getCluster now rejects with 404', async () => {
    await expectStatus(admin.getCluster(s.clusterUuid), 404, 'getCluster after delete')
  })
})
