// The Camunda 8 JS SDK's AdminApiClient on members, activity and IP ranges against consoled.
// Reuses the SDK set-up of tests/sdk (run `npm ci` there first).
//
//   CONSOLED_URL=http://127.0.0.1:8080 CONSOLED_CLIENT_ID=... CONSOLED_CLIENT_SECRET=... \
//     node --test tests/sdk_org/org_flow.mjs
//
// Skips (does not fail) when CONSOLED_URL is unset.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { expectStatus, makeAdminClient, readEnv, stepper, uniqueSuffix } from '../sdk/helpers.mjs'

const env = readEnv()

test('AdminApiClient: members, activity and IP ranges', { skip: env.skip }, async (t) => {
  const { client: admin, cleanup } = makeAdminClient(env)
  t.after(cleanup)
  const step = stepper(t)
  // The SDK puts the email into the path as it is: the `+` must survive.
  const email = `sdk+${uniqueSuffix()}@example.com`

  await step('getUsers: a bare array with the owner', async () => {
    const users = await admin.getUsers()
    assert.ok(Array.isArray(users))
    const owner = users.find((u) => u.roles.includes('owner'))
    assert.ok(owner, `no owner in ${JSON.stringify(users)}`)
    assert.equal(owner.invitePending, false)
  })

  await step('createMember invites (204, empty body)', async () => {
    assert.equal(await admin.createMember(email, ['developer']), '')
    const member = (await admin.getUsers()).find((u) => u.email === email)
    assert.deepEqual(member, { name: email, email, roles: ['developer'], invitePending: true })
  })

  await step('createMember again replaces the roles', async () => {
    await admin.createMember(email, ['admin', 'analyst'])
    const member = (await admin.getUsers()).find((u) => u.email === email)
    assert.deepEqual(member.roles, ['admin', 'analyst'])
  })

  await step('createMember with a role that cannot be assigned is 400', async () => {
    await expectStatus(admin.createMember(`x-${email}`, ['owner']), 400, 'owner role')
    await expectStatus(admin.createMember(`x-${email}`, ['not-a-role']), 400, 'unknown role')
  })

  await step('deleteMember (204), then 404', async () => {
    assert.equal(await admin.deleteMember(email), '')
    assert.ok(!(await admin.getUsers()).some((u) => u.email === email))
    await expectStatus(admin.deleteMember(email), 404, 'deleteMember unknown')
  })

  await step('getActivityEvents: the member changes, newest first', async () => {
    const events = await admin.getActivityEvents()
    assert.ok(Array.isArray(events))
    const mine = events.filter((e) => e.entity === 'member' && e.entityId === email)
    assert.deepEqual(mine.map((e) => e.auditType), ['d', 'u', 'c'])
    for (const e of events) {
      for (const k of ['audit', 'entity', 'entityId', 'orgId', 'service', 'userId']) {
        assert.equal(typeof e[k], 'string', `event.${k}`)
      }
      assert.equal(typeof e.timestamp, 'number')
    }
    assert.equal(mine[1].entityAttributeValueTo, 'admin,analyst')
  })

  await step('getActivityEventsCsv: text with a header row', async () => {
    const csv = await admin.getActivityEventsCsv()
    assert.equal(typeof csv, 'string')
    const [header, ...rows] = csv.trimEnd().split('\r\n')
    assert.ok(header.startsWith('service,orgId,timestamp,audit,auditType,'), header)
    assert.ok(rows.some((r) => r.includes(email)), 'CSV lacks the member events')
  })

  await step('getIpRanges: {"web-modeler": [CIDR]}', async () => {
    const meta = await admin.getIpRanges()
    assert.ok(Array.isArray(meta['web-modeler']))
    for (const range of meta['web-modeler']) assert.match(range, /^[0-9a-f.:]+\/\d+$/)
  })
})
