// The remaining AdminApiClient operations against consoled: updateCluster,
// IP allowlist/whitelist, connector secrets, backups, upgrade, wake,
// monitoring (BYOM), secure connectivity, members, activity, IP ranges.
//
//   CONSOLED_SDK_FULL=1 CONSOLED_URL=http://127.0.0.1:8080 \
//   CONSOLED_CLIENT_ID=... CONSOLED_CLIENT_SECRET=... \
//     node --test tests/sdk/admin_cluster_ops.mjs
//
// Skips unless CONSOLED_SDK_FULL=1 and CONSOLED_URL are both set.
// Expected statuses come from management-api-1.3.3.openapi.yaml and
// client-expectations.md (shared/reference).
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  expectStatus,
  isNonEmptyString,
  makeAdminClient,
  pickCreateBody,
  readEnv,
  stepper,
  uniqueSuffix,
  waitHealthy,
} from './helpers.mjs'

const env = readEnv()
const skip =
  process.env.CONSOLED_SDK_FULL !== '1'
    ? 'set CONSOLED_SDK_FULL=1 to run the full AdminApiClient operation suite'
    : env.skip

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000'
const BACKUP_STATUSES = ['In progress', 'Failed', 'Complete', '-']

test('AdminApiClient: all remaining cluster and organization operations', { skip }, async (t) => {
  const { client: admin, cleanup } = makeAdminClient(env)
  const step = stepper(t)
  const s = { suffix: uniqueSuffix() }

  t.after(async () => {
    if (s.memberEmail && !s.memberDeleted) await admin.deleteMember(s.memberEmail).catch(() => {})
    if (s.clusterUuid && !s.clusterDeleted) await admin.deleteCluster(s.clusterUuid).catch(() => {})
    cleanup()
  })

  // ---------------------------------------------------------------- setup
  await step('setup: create a cluster and wait until Healthy', async () => {
    const params = await admin.getParameters()
    s.params = params
    s.createBody = pickCreateBody(params, `sdk-ops-${s.suffix}`)
    // Start on an older generation of the channel, when it has one, so that
    // upgradeCluster has somewhere to go (200) instead of only the 400 path. The SDK
    // forwards extra fields: autoUpdate false keeps the server's reconciler from
    // upgrading the cluster itself before the test does.
    const channel = params.channels[0]
    const older = (channel.allowedGenerations ?? []).find((g) => g.uuid !== channel.defaultGeneration.uuid)
    if (older) {
      s.createBody.generationId = older.uuid
      s.createBody.autoUpdate = false
    }
    const { clusterId } = await admin.createCluster(s.createBody)
    assert.ok(isNonEmptyString(clusterId), 'clusterId')
    s.clusterUuid = clusterId
    await waitHealthy(admin, s.clusterUuid)
  })

  // -------------------------------------------------------- updateCluster
  await step('updateCluster: name + description + stageLabel (PATCH, 204)', async () => {
    const newName = `sdk-ops-renamed-${s.suffix}`
    // `description` is not in the 1.3.3 UpdateClusterBody (additionalProperties:false)
    // but the SDK documents and sends it; the server must accept it.
    const res = await admin.updateCluster(s.clusterUuid, {
      name: newName,
      description: 'updated by the JS SDK test',
      stageLabel: 'dev',
    })
    assert.equal(res, undefined)
    const cluster = await admin.getCluster(s.clusterUuid)
    assert.equal(cluster.name, newName)
    s.clusterName = newName
  })

  await step('updateCluster: unknown cluster -> 404', async () => {
    await expectStatus(admin.updateCluster(UNKNOWN_UUID, { name: 'x' }), 404)
  })

  // --------------------------------------------------- IP allowlist/whitelist
  await step('updateIpAllowlist (PUT /ipallowlist, 204) and clear with []', async () => {
    const entries = [
      { ip: '10.0.0.0/24', description: 'office' },
      { ip: '192.168.1.1/32,192.168.1.2/32', description: 'vpn pair' },
    ]
    await admin.updateIpAllowlist(s.clusterUuid, entries)
    let cluster = await admin.getCluster(s.clusterUuid)
    // Only returned when the feature is enabled for the organization.
    if (cluster.ipallowlist !== undefined) {
      assert.deepEqual(cluster.ipallowlist, entries)
    } else {
      t.diagnostic('getCluster does not return ipallowlist; content not verified')
    }
    await admin.updateIpAllowlist(s.clusterUuid, [])
    cluster = await admin.getCluster(s.clusterUuid)
    if (cluster.ipallowlist !== undefined) assert.deepEqual(cluster.ipallowlist, [])
  })

  await step('whitelistIPs (deprecated PUT /ipwhitelist, 204 -> "" via .json())', async () => {
    const entries = [{ ip: '172.16.0.0/16', description: 'legacy' }]
    const res = await admin.whitelistIPs(s.clusterUuid, entries)
    // The SDK calls .json() on the response; got returns '' for an empty body.
    assert.ok(res === '' || res === null || res === undefined, `unexpected body ${JSON.stringify(res)}`)
    let cluster = await admin.getCluster(s.clusterUuid)
    if (cluster.ipwhitelist !== undefined) assert.deepEqual(cluster.ipwhitelist, entries)
    if (cluster.ipallowlist !== undefined) assert.deepEqual(cluster.ipallowlist, entries)
    await admin.whitelistIPs(s.clusterUuid, [])
    cluster = await admin.getCluster(s.clusterUuid)
    if (cluster.ipallowlist !== undefined) assert.deepEqual(cluster.ipallowlist, [])
  })

  // --------------------------------------------------------------- secrets
  await step('secrets: create, list (plaintext), duplicate 409, too long 400, update, delete', async () => {
    const name = `SDK_SECRET_${s.suffix}`
    const before = await admin.getSecrets(s.clusterUuid)
    assert.equal(typeof before, 'object', 'getSecrets returns a name -> value object')
    assert.ok(!Array.isArray(before), 'getSecrets returns an object, not an array')
    assert.ok(!(name in before))

    await admin.createSecret({ clusterUuid: s.clusterUuid, secretName: name, secretValue: 'v1' })
    let secrets = await admin.getSecrets(s.clusterUuid)
    assert.equal(secrets[name], 'v1', 'getSecrets must return the plaintext value')

    await expectStatus(
      admin.createSecret({ clusterUuid: s.clusterUuid, secretName: name, secretValue: 'again' }),
      409,
      'duplicate secret name',
    )
    secrets = await admin.getSecrets(s.clusterUuid)
    assert.equal(secrets[name], 'v1', 'a rejected duplicate must not overwrite the value')

    await expectStatus(
      admin.createSecret({ clusterUuid: s.clusterUuid, secretName: 'S'.repeat(50), secretValue: 'x' }),
      400,
      'secret name of 50 characters',
    )

    const res = await admin.updateSecret(s.clusterUuid, name, 'v2')
    assert.equal(res, undefined)
    secrets = await admin.getSecrets(s.clusterUuid)
    assert.equal(secrets[name], 'v2')

    await admin.deleteSecret(s.clusterUuid, name)
    secrets = await admin.getSecrets(s.clusterUuid)
    assert.ok(!(name in secrets), 'deleted secret still listed')
  })

  await step('secrets: unknown cluster -> 404', async () => {
    await expectStatus(admin.getSecrets(UNKNOWN_UUID), 404, 'getSecrets')
    await expectStatus(
      admin.createSecret({ clusterUuid: UNKNOWN_UUID, secretName: 'X', secretValue: 'y' }),
      404,
      'createSecret',
    )
    await expectStatus(admin.updateSecret(UNKNOWN_UUID, 'X', 'y'), 404, 'updateSecret')
  })

  // --------------------------------------------------------------- backups
  await step('backups: create, list, delete returns the backup JSON', async () => {
    const list0 = await admin.getBackups(s.clusterUuid)
    assert.ok(Array.isArray(list0), 'getBackups returns a bare array')

    const backup = await admin.createBackup(s.clusterUuid)
    assert.ok(isNonEmptyString(backup?.uuid), 'createBackup returns a BackupDto with uuid')
    for (const k of ['name', 'created', 'completed']) assert.equal(typeof backup[k], 'string', k)
    for (const k of ['status', 'zeebeStatus', 'operateStatus', 'tasklistStatus', 'optimizeStatus']) {
      assert.ok(BACKUP_STATUSES.includes(backup[k]), `${k}=${backup[k]}`)
    }

    const list1 = await admin.getBackups(s.clusterUuid)
    assert.ok(list1.some((b) => b.uuid === backup.uuid), 'new backup missing from getBackups')

    const deleted = await admin.deleteBackup(s.clusterUuid, backup.uuid)
    assert.equal(typeof deleted, 'object', 'deleteBackup answers 200 with the backup as JSON')
    assert.equal(deleted.uuid, backup.uuid)

    const list2 = await admin.getBackups(s.clusterUuid)
    assert.ok(!list2.some((b) => b.uuid === backup.uuid), 'deleted backup still listed')
  })

  await step('backups: unknown backup / unknown cluster -> 404', async () => {
    await expectStatus(admin.deleteBackup(s.clusterUuid, UNKNOWN_UUID), 404, 'deleteBackup unknown backup')
    await expectStatus(admin.getBackups(UNKNOWN_UUID), 404, 'getBackups unknown cluster')
    await expectStatus(admin.createBackup(UNKNOWN_UUID), 404, 'createBackup unknown cluster')
  })

  // ------------------------------------------------ API clients edge cases
  await step('createClient: duplicate name -> 400 (not 409)', async () => {
    const name = `sdk-dup-${s.suffix}`
    const created = await admin.createClient({ clusterUuid: s.clusterUuid, clientName: name })
    s.clientId = created.clientId
    await expectStatus(admin.createClient({ clusterUuid: s.clusterUuid, clientName: name }), 400, 'duplicate client name')
  })

  await step('clients: unknown cluster/client -> 404', async () => {
    await expectStatus(admin.getClients(UNKNOWN_UUID), 404, 'getClients unknown cluster')
    await expectStatus(admin.getClient(s.clusterUuid, 'no-such-client'), 404, 'getClient unknown client')
    await expectStatus(admin.deleteClient(s.clusterUuid, 'no-such-client'), 404, 'deleteClient unknown client')
  })

  // --------------------------------------------------------------- upgrade
  await step('upgradeCluster: 200 GenerationUpgradeForClusterDto, or 400 when none available', async (st) => {
    let dto
    try {
      dto = await admin.upgradeCluster(s.clusterUuid)
    } catch (err) {
      assert.equal(err?.response?.statusCode, 400, `upgrade rejected with ${err?.response?.statusCode}: ${err.message}`)
      st.diagnostic('no upgrade available (400)')
      return
    }
    assert.equal(dto.cluster?.id, s.clusterUuid)
    assert.ok(isNonEmptyString(dto.cluster?.name), 'cluster.name')
    assert.ok(isNonEmptyString(dto.orgId), 'orgId')
    assert.equal(dto.oldGeneration?.id, s.createBody.generationId)
    assert.ok(isNonEmptyString(dto.newGeneration?.id), 'newGeneration.id')
    assert.notEqual(dto.newGeneration.id, dto.oldGeneration.id)

    const during = await admin.getCluster(s.clusterUuid)
    if (during.status.ready !== 'Healthy') {
      // While not ready: getClient and upgrade answer 412.
      await expectStatus(admin.getClient(s.clusterUuid, s.clientId), 412, 'getClient while not ready')
      await expectStatus(admin.upgradeCluster(s.clusterUuid), 412, 'upgrade while not ready')
    } else {
      st.diagnostic('cluster was Healthy right after upgrade; 412 paths not exercised')
    }
    const after = await waitHealthy(admin, s.clusterUuid)
    assert.equal(after.generation.uuid, dto.newGeneration.id)
  })

  await step('upgradeCluster: unknown cluster -> 404', async () => {
    await expectStatus(admin.upgradeCluster(UNKNOWN_UUID), 404)
  })

  // ------------------------------------------------------------------ wake
  await step('wakeCluster (PUT /wake, 204) leaves/returns the cluster Healthy', async () => {
    const res = await admin.wakeCluster(s.clusterUuid)
    assert.equal(res, undefined)
    await waitHealthy(admin, s.clusterUuid)
  })

  // ------------------------------------------------------------ monitoring
  await step('monitoring: activate, create client (password), rotate, delete, deactivate', async () => {
    assert.equal(await admin.activateMonitoring(s.clusterUuid), undefined)

    const list0 = await admin.getMonitoringClients(s.clusterUuid)
    assert.ok(Array.isArray(list0.clients), 'getMonitoringClients returns {clients: [...]}')
    assert.equal(typeof list0.status, 'object', 'getMonitoringClients returns {status: {...}}')

    const username = `sdk-prom-${s.suffix}`
    const created = await admin.createMonitoringClient(s.clusterUuid, username)
    assert.ok(isNonEmptyString(created?.uuid), 'uuid')
    assert.equal(created.username, username)
    assert.ok(isNonEmptyString(created.password), 'password is returned on creation')

    const list1 = await admin.getMonitoringClients(s.clusterUuid)
    const listed = list1.clients.find((c) => c.uuid === created.uuid)
    assert.ok(listed, 'monitoring client missing from list')
    assert.equal(listed.username, username)
    assert.ok(!('password' in listed), 'list must not reveal the password')

    const rotated = await admin.rotateMonitoringClientPassword(s.clusterUuid, created.uuid)
    assert.equal(rotated.uuid, created.uuid)
    assert.ok(isNonEmptyString(rotated.password), 'rotate returns a password')
    assert.notEqual(rotated.password, created.password, 'rotate must change the password')

    assert.equal(await admin.deleteMonitoringClient(s.clusterUuid, created.uuid), undefined)
    const list2 = await admin.getMonitoringClients(s.clusterUuid)
    assert.ok(!list2.clients.some((c) => c.uuid === created.uuid), 'deleted monitoring client still listed')

    assert.equal(await admin.deactivateMonitoring(s.clusterUuid), undefined)
  })

  await step('monitoring: unknown cluster -> 404', async () => {
    await expectStatus(admin.getMonitoringClients(UNKNOWN_UUID), 404)
  })

  // --------------------------------------------------- secure connectivity
  await step('secure connectivity: status {} -> activate -> spec echoes request -> deactivate', async () => {
    const s0 = await admin.getSecureConnectivityStatus(s.clusterUuid)
    assert.equal(typeof s0?.status, 'object', 'response is {status: ...}')
    assert.deepEqual(s0.status, {}, 'inactive secure connectivity is {status: {}}')

    const req = {
      allowedPrincipals: ['arn:aws:iam::123456789012:root'],
      allowedRegions: ['us-east-1'],
    }
    assert.equal(await admin.activateSecureConnectivity(s.clusterUuid, req), undefined)

    const s1 = await admin.getSecureConnectivityStatus(s.clusterUuid)
    assert.ok(s1.status && Object.keys(s1.status).length > 0, 'active secure connectivity has a document')
    assert.deepEqual(s1.status.spec?.allowedPrincipals, req.allowedPrincipals)
    assert.deepEqual(s1.status.spec?.allowedRegions, req.allowedRegions)
    assert.equal(s1.status.spec?.cluster?.id, s.clusterUuid)
    assert.equal(typeof s1.status.metadata, 'object', 'metadata')
    assert.equal(typeof s1.status.status, 'object', 'status.status')

    assert.equal(await admin.deactivateSecureConnectivity(s.clusterUuid), undefined)
    const s2 = await admin.getSecureConnectivityStatus(s.clusterUuid)
    assert.deepEqual(s2.status, {}, 'after deactivation status is {}')
  })

  // --------------------------------------------------------------- members
  await step('members: createMember (email with +, not URL-encoded), list, delete', async () => {
    const email = `sdk+${s.suffix}@example.com`
    const users0 = await admin.getUsers()
    assert.ok(Array.isArray(users0), 'getUsers returns a bare array')
    for (const m of users0) {
      assert.equal(typeof m.email, 'string')
      assert.equal(typeof m.name, 'string')
      assert.equal(typeof m.invitePending, 'boolean')
      assert.ok(Array.isArray(m.roles))
    }

    await admin.createMember(email, ['developer'])
    s.memberEmail = email
    const users1 = await admin.getUsers()
    const m = users1.find((u) => u.email === email)
    assert.ok(m, `member ${email} missing from getUsers (SDK sends the raw email in the path)`)
    assert.ok(m.roles.includes('developer'), `roles ${JSON.stringify(m.roles)}`)

    await expectStatus(admin.createMember(`sdk-bad-${s.suffix}@example.com`, ['not-a-role']), 400, 'invalid role')

    await admin.deleteMember(email)
    s.memberDeleted = true
    const users2 = await admin.getUsers()
    assert.ok(!users2.some((u) => u.email === email), 'deleted member still listed')
    await expectStatus(admin.deleteMember(email), 404, 'deleteMember unknown email')
  })

  // -------------------------------------------------------------- activity
  await step('activity: JSON events and CSV text', async (st) => {
    const events = await admin.getActivityEvents()
    assert.ok(Array.isArray(events), 'getActivityEvents returns a bare array')
    for (const e of events) {
      for (const k of ['audit', 'entity', 'entityId', 'orgId', 'service', 'userId']) {
        assert.equal(typeof e[k], 'string', `event.${k}`)
      }
      assert.ok(['c', 'r', 'u', 'd'].includes(e.auditType), `auditType ${e.auditType}`)
      if (e.timestamp !== undefined) assert.equal(typeof e.timestamp, 'number', 'timestamp')
    }
    if (!events.some((e) => e.entityId === s.clusterUuid || e.parentEntityId === s.clusterUuid)) {
      st.diagnostic('no activity event references the test cluster')
    }

    const csv = await admin.getActivityEventsCsv()
    assert.equal(typeof csv, 'string')
    let parsed
    try {
      parsed = JSON.parse(csv)
    } catch {
      parsed = undefined
    }
    assert.notEqual(typeof parsed, 'string', '/activity/csv must be raw CSV text, not a JSON-encoded string')
    if (events.length > 0) assert.ok(csv.trim().length > 0, 'CSV is empty although JSON has events')
  })

  // ------------------------------------------------------------- ip ranges
  await step('getIpRanges returns {"web-modeler": string[]}', async () => {
    const meta = await admin.getIpRanges()
    assert.equal(typeof meta, 'object')
    assert.ok(Array.isArray(meta['web-modeler']), 'web-modeler must be an array')
    for (const r of meta['web-modeler']) assert.equal(typeof r, 'string')
  })

  // ------------------------------------------------------------- teardown
  await step('teardown: delete client and cluster; further calls 404', async () => {
    if (s.clientId) await admin.deleteClient(s.clusterUuid, s.clientId)
    await admin.deleteCluster(s.clusterUuid)
    s.clusterDeleted = true
    await expectStatus(admin.getCluster(s.clusterUuid), 404, 'getCluster after delete')
    await expectStatus(admin.deleteCluster(s.clusterUuid), 404, 'deleteCluster again')
  })
})
