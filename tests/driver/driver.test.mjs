import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DRIVER = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drv-'));

// issuer
const k1 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const k2 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
let published = [{ kid: 'k1', key: k1 }];
let jwksFetches = 0;
const issuerServer = http.createServer((req, res) => {
  const base = `http://127.0.0.1:${issuerServer.address().port}`;
  if (req.url === '/.well-known/openid-configuration') {
    res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/.well-known/jwks.json` }));
  } else if (req.url === '/.well-known/jwks.json') {
    jwksFetches++;
    res.end(JSON.stringify({ keys: published.map(({ kid, key }) => ({ ...key.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' })) }));
  } else { res.statusCode = 404; res.end(); }
});
await new Promise((r) => issuerServer.listen(0, '127.0.0.1', r));
const ISSUER = `http://127.0.0.1:${issuerServer.address().port}`;

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function sign(claims, { kid = 'k1', key = k1.privateKey, alg = 'ES256' } = {}) {
  const h = b64({ alg, kid, typ: 'JWT' }), p = b64(claims);
  const sig = crypto.sign('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${h}.${p}.${sig}`;
}
const UUID = 'c0ffee00-0000-4000-8000-000000000001';
const AUD = `${UUID}.zeebe.example.io`;
const now = () => Math.floor(Date.now() / 1000);
const good = (extra = {}) => ({ iss: ISSUER, aud: ['zeebe.camunda.io', AUD], exp: now() + 300, azp: 'client-1', 'https://camunda.com/clusterId': UUID, ...extra });

function doc(action, extra = {}) {
  return { version: 1, action, operationId: crypto.randomUUID(), cluster: { uuid: UUID, name: 'demo', orgId: 'o', generation: { uuid: 'g', name: 'Camunda 8.8.0', versions: { zeebe: '8.8.0' } }, region: { uuid: 'r', name: 'x', short: 'bru-2' }, stageLabel: null, ipAllowlist: [], connectorSecrets: { FOO: 's3cr3t-foo', BAR: 'hunter2' } }, auth: { issuer: ISSUER, jwksUri: `${ISSUER}/.well-known/jwks.json`, audience: AUD, clientIdClaim: 'azp', clusterIdClaim: 'https://camunda.com/clusterId' }, ...extra };
}
function hook(action, d = doc(action), env = { CONSOLED_TEST_DRIVER_DIR: dir }) {
  const r = spawnSync(`${DRIVER}/hook.mjs`, [action], { input: typeof d === 'string' ? d : JSON.stringify(d), env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  return r;
}
function hookAsync(action, d = doc(action)) {
  return new Promise((resolve) => {
    const c = spawn(`${DRIVER}/hook.mjs`, [action], { env: { PATH: process.env.PATH, CONSOLED_TEST_DRIVER_DIR: dir } });
    let out = '', err = '';
    c.stdout.on('data', (x) => (out += x)); c.stderr.on('data', (x) => (err += x));
    c.on('close', (status) => resolve({ status, stdout: out, stderr: err }));
    c.stdin.end(JSON.stringify(d));
  });
}
const state = () => JSON.parse(fs.readFileSync(path.join(dir, `${UUID}.json`), 'utf8'));
const alive = (pid) => { try { process.kill(pid, 0); } catch { return false; } try { const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z'; } catch { return false; } };
async function topo(port, token) {
  const res = await fetch(`http://127.0.0.1:${port}/v2/topology`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

test('no state dir', () => {
  const r = hook('create', doc('create'), {});
  assert.equal(r.status, 2);
  assert.match(r.stderr, /CONSOLED_TEST_DRIVER_DIR is not set/);
});

let port;
test('create, then create again reuses the process', async () => {
  const r = hook('create');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  port = state().port;
  assert.equal(out.endpoints.zeebeGrpc, `127.0.0.1:${port}`);
  assert.equal(out.endpoints.zeebeRest, `http://127.0.0.1:${port}/v2`);
  assert.equal(out.health.zeebe, `http://127.0.0.1:${port}/health/zeebe`);
  for (const [, url] of Object.entries(out.health)) assert.equal((await fetch(url)).status, 200);
  for (const [k, url] of Object.entries(out.endpoints)) if (k !== 'zeebeGrpc' && k !== 'zeebeRest') assert.equal((await fetch(url)).status, 200, url);
  const pid = state().pid;
  const r2 = hook('create');
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(state().pid, pid);
  assert.deepEqual(JSON.parse(r2.stdout), out);
  const calls = fs.readFileSync(path.join(dir, 'calls.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
  assert.equal(calls.at(-1).action, 'create');
  assert.equal(calls.at(-1).input.cluster.uuid, UUID);
});

test('tokens', async () => {
  let r = await topo(port, sign(good()));
  assert.equal(r.status, 200); assert.deepEqual(r.body, { clusterId: UUID, client: 'client-1' });
  r = await topo(port, sign(good({ aud: AUD }))); assert.equal(r.status, 200);
  const refused = async (tok, re) => { const x = await topo(port, tok); assert.equal(x.status, 401, JSON.stringify(x.body)); assert.match(x.body.error, re); };
  await refused(undefined, /missing bearer/);
  await refused(sign(good({ aud: ['zeebe.camunda.io', 'other.zeebe.example.io'] })), /aud/);
  await refused(sign(good({ aud: 'zeebe.camunda.io' })), /aud/);
  await refused(sign(good({ aud: undefined })), /aud/);
  await refused(sign(good({ iss: 'http://evil' })), /iss/);
  await refused(sign(good({ iss: ISSUER + '/' })), /iss/);
  await refused(sign(good(), { key: other.privateKey }), /bad signature/);
  await refused(sign(good({ exp: now() - 3600 })), /expired/);
  await refused(sign(good({ exp: undefined })), /no exp/);
  await refused(sign(good({ nbf: now() + 3600 })), /not yet valid/);
  await refused(sign(good({ azp: undefined })), /azp/);
  await refused(sign(good(), { alg: 'HS256' }), /alg/);
  await refused(sign(good(), { alg: 'none' }), /alg/);
  const t = sign(good()); const [h, p] = t.split('.');
  await refused(`${h}.${p}.`, /signature/);
  await refused(`${h}.${b64(good({ azp: 'other' }))}.${t.split('.')[2]}`, /bad signature/);
  await refused('abc', /JWS/);
  await refused(sign(good(), { kid: 'nope' }), /no key with kid/);
  // rotation: unknown kid triggers a refetch
  published.push({ kid: 'k2', key: k2 });
  const before = jwksFetches;
  r = await topo(port, sign(good(), { kid: 'k2', key: k2.privateKey }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(jwksFetches, before + 1);
  r = await topo(port, sign(good(), { kid: 'k2', key: k2.privateKey }));
  assert.equal(jwksFetches, before + 1, 'cached');
  // expired within leeway is accepted
  r = await topo(port, sign(good({ exp: now() - 5 }))); assert.equal(r.status, 200);
});

test('down files make health fail', async () => {
  fs.writeFileSync(path.join(dir, `${UUID}.down-operate`), '');
  assert.equal((await fetch(`http://127.0.0.1:${port}/health/operate`)).status, 503);
  assert.equal((await fetch(`http://127.0.0.1:${port}/health/zeebe`)).status, 200);
  fs.rmSync(path.join(dir, `${UUID}.down-operate`));
  assert.equal((await fetch(`http://127.0.0.1:${port}/health/operate`)).status, 200);
});

test('update records the document, keeps the process', () => {
  const pid = state().pid;
  const d = doc('update'); d.cluster.generation.name = 'Camunda 8.8.1';
  const r = hook('update', d);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(state().pid, pid);
  assert.equal(state().generation.name, 'Camunda 8.8.1');
  assert.equal(state().lastAction, 'update');
});

test('suspend, suspend again, wake on the same port', async () => {
  const pid = state().pid;
  let r = hook('suspend'); assert.equal(r.status, 0, r.stderr); assert.deepEqual(JSON.parse(r.stdout), {});
  assert.ok(!alive(pid)); assert.equal(state().suspended, true);
  r = hook('suspend'); assert.equal(r.status, 0, r.stderr);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health/zeebe`));
  r = hook('wake'); assert.equal(r.status, 0, r.stderr);
  assert.equal(state().port, port); assert.notEqual(state().pid, pid);
  assert.equal((await fetch(`http://127.0.0.1:${port}/health/zeebe`)).status, 200);
});

test('restart.mjs after SIGKILL', async () => {
  const pid = state().pid;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  const r = spawnSync(`${DRIVER}/restart.mjs`, [dir, UUID], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(state().port, port);
  assert.equal((await topo(port, sign(good()))).status, 200);
  const r2 = spawnSync(`${DRIVER}/restart.mjs`, [dir, UUID], { encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stderr); assert.match(r2.stdout, /running already/);
  const r3 = spawnSync(`${DRIVER}/restart.mjs`, [dir, 'nope'], { encoding: 'utf8' });
  assert.equal(r3.status, 1); assert.match(r3.stderr, /does not exist/);
});

test('failure injection', () => {
  fs.writeFileSync(path.join(dir, 'fail-update'), '2\n');
  for (let i = 0; i < 2; i++) {
    const r = hook('update');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot apply secret FOO=s3cr3t-foo/);
    assert.match(r.stderr, /cannot apply secret BAR=hunter2/);
  }
  assert.equal(fs.readFileSync(path.join(dir, 'fail-update'), 'utf8').trim(), '0');
  assert.equal(hook('update').status, 0);
});

test('concurrent injected failures count exactly', async () => {
  fs.writeFileSync(path.join(dir, 'fail-backup'), '3\n');
  const rs = await Promise.all(Array.from({ length: 6 }, () => hookAsync('backup', doc('backup', { backup: { uuid: 'b1', createdAt: new Date().toISOString() } }))));
  assert.equal(rs.filter((r) => r.status === 1).length, 3);
  assert.equal(rs.filter((r) => r.status === 0).length, 3);
});

test('delay', () => {
  fs.writeFileSync(path.join(dir, 'delay-backup'), '700');
  const t = Date.now();
  const r = hook('backup', doc('backup', { backup: { uuid: 'b2', createdAt: 'x' } }));
  assert.equal(r.status, 0, r.stderr); assert.ok(Date.now() - t >= 700);
  fs.rmSync(path.join(dir, 'delay-backup'));
  assert.ok(fs.existsSync(path.join(dir, 'backups', UUID, 'b2.json')));
  const r2 = hook('delete-backup', doc('delete-backup', { backup: { uuid: 'b2', createdAt: 'x' } }));
  assert.equal(r2.status, 0); assert.deepEqual(JSON.parse(r2.stdout), {});
  assert.ok(!fs.existsSync(path.join(dir, 'backups', UUID, 'b2.json')));
});

test('bad input', () => {
  let r = hook('create', 'not json'); assert.equal(r.status, 1); assert.match(r.stderr, /not JSON/);
  r = hook('frobnicate', doc('frobnicate')); assert.equal(r.status, 2);
  r = hook('create', doc('update')); assert.equal(r.status, 2);
  const d = doc('create'); d.cluster.uuid = '../etc'; r = hook('create', d); assert.equal(r.status, 1); assert.match(r.stderr, /uuid/);
});

test('delete, delete again', () => {
  const pid = state().pid;
  let r = hook('delete'); assert.equal(r.status, 0, r.stderr);
  assert.ok(!alive(pid));
  for (const f of ['json', 'port', 'log']) assert.ok(!fs.existsSync(path.join(dir, `${UUID}.${f}`)), f);
  r = hook('delete'); assert.equal(r.status, 0, r.stderr);
  r = hook('suspend'); assert.equal(r.status, 0, r.stderr);
});

test('concurrent creates start one process', async () => {
  const d = doc('create'); d.cluster.uuid = 'c0ffee00-0000-4000-8000-000000000002';
  const rs = await Promise.all(Array.from({ length: 5 }, () => hookAsync('create', d)));
  for (const r of rs) assert.equal(r.status, 0, r.stderr);
  const ports = new Set(rs.map((r) => JSON.parse(r.stdout).endpoints.zeebeGrpc));
  assert.equal(ports.size, 1);
  const ps = spawnSync('pgrep', ['-f', `--uuid ${d.cluster.uuid}`], { encoding: 'utf8' });
  assert.equal(ps.stdout.trim().split('\n').length, 1, ps.stdout);
  assert.equal(hook('delete', { ...d, action: 'delete' }).status, 0);
});

test.after(() => { issuerServer.close(); });
