#!/usr/bin/env node
// consoled's test driver: `hook.mjs ACTION` with one JSON document on stdin (see
// docs/drivers.md). Each cluster is a local process (cluster.mjs) that answers health checks and
// verifies consoled's tokens the way a Camunda cluster does. State lives in
// $CONSOLED_TEST_DRIVER_DIR; see README.md in this directory for its files.

import fs from 'node:fs';
import path from 'node:path';
import {
  answersAs,
  checkUuid,
  endpointsFor,
  files,
  isAlive,
  readJson,
  removeFile,
  sleep,
  startCluster,
  stopProcess,
  withLock,
  withPort,
  writeAtomically,
  writeJson,
} from './lib.mjs';

const ACTIONS = ['create', 'update', 'upgrade', 'suspend', 'wake', 'delete', 'backup', 'delete-backup'];

// consoled may be gone (killed mid-step) by the time we answer: a closed pipe is not an error here.
process.stdout.on('error', () => {});

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The first of `names` that exists in `dir`, as a path. */
function firstExisting(dir, names) {
  for (const name of names) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/**
 * `fail-<action>-<uuid>` or `fail-<action>` holding N > 0: count it down and fail this call.
 * The count is read and rewritten under a lock, so concurrent hooks fail exactly N times.
 */
async function injectedFailure(dir, action, uuid) {
  return withLock(path.join(dir, 'fail.lock'), async () => {
    const file = firstExisting(dir, [`fail-${action}-${uuid}`, `fail-${action}`]);
    if (!file) return false;
    const n = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    if (!Number.isInteger(n) || n <= 0) return false;
    writeAtomically(file, `${n - 1}\n`);
    return true;
  });
}

function delayFor(dir, action, uuid) {
  const file = firstExisting(dir, [`delay-${action}-${uuid}`, `delay-${action}`]);
  if (!file) return 0;
  const ms = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
  return Number.isInteger(ms) && ms > 0 ? ms : 0;
}

/** create, update, upgrade, wake: the cluster's process runs (started if need be). */
async function ensureRunning(dir, doc) {
  const uuid = doc.cluster.uuid;
  const f = files(dir, uuid);
  return withLock(f.lock, async () => {
    const previous = readJson(f.state);
    let { pid, port, args } = previous ?? {};
    const running = previous && isAlive(pid) && (await answersAs(port, uuid));
    if (!running) {
      args = [
        '--state-dir', dir,
        '--uuid', uuid,
        '--issuer', doc.auth.issuer,
        '--audience', doc.auth.audience,
      ];
      // A cluster started before keeps its port, so its endpoints do not change.
      if (previous?.port) args = withPort(args, previous.port);
      ({ pid, port } = await startCluster(dir, uuid, args));
      args = withPort(args, port);
    }
    writeJson(f.state, {
      uuid,
      pid,
      port,
      args,
      suspended: false,
      lastAction: doc.action,
      operationId: doc.operationId,
      updatedAt: new Date().toISOString(),
      generation: doc.cluster.generation ?? null,
      cluster: doc.cluster,
      auth: doc.auth,
    });
    return endpointsFor(port);
  });
}

async function suspend(dir, doc) {
  const uuid = doc.cluster.uuid;
  const f = files(dir, uuid);
  await withLock(f.lock, async () => {
    const state = readJson(f.state);
    if (!state) return; // nothing to suspend: already deleted, or never created
    await stopProcess(state.pid);
    removeFile(f.port);
    writeJson(f.state, {
      ...state,
      pid: null,
      suspended: true,
      lastAction: doc.action,
      operationId: doc.operationId,
      updatedAt: new Date().toISOString(),
    });
  });
  return {};
}

async function remove(dir, doc) {
  const uuid = doc.cluster.uuid;
  const f = files(dir, uuid);
  await withLock(f.lock, async () => {
    const state = readJson(f.state);
    if (state) await stopProcess(state.pid);
    removeFile(f.state);
    removeFile(f.port);
    removeFile(f.log);
    removeFile(path.join(dir, 'backups', uuid));
  });
  return {};
}

function backup(dir, doc, keep) {
  if (!doc.backup?.uuid) throw new Error(`${doc.action} without backup.uuid`);
  const backupDir = path.join(dir, 'backups', doc.cluster.uuid);
  const file = path.join(backupDir, `${checkUuid(doc.backup.uuid)}.json`);
  if (keep) {
    fs.mkdirSync(backupDir, { recursive: true });
    writeJson(file, { cluster: doc.cluster.uuid, backup: doc.backup, operationId: doc.operationId });
  } else {
    removeFile(file);
  }
  return {};
}

async function main() {
  const action = process.argv[2];
  const dir = process.env.CONSOLED_TEST_DRIVER_DIR;
  if (!dir) fail('hook.mjs: CONSOLED_TEST_DRIVER_DIR is not set (the directory for the driver\'s state)', 2);
  fs.mkdirSync(dir, { recursive: true });

  const raw = await readStdin();
  let doc;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    fs.appendFileSync(path.join(dir, 'calls.jsonl'), `${JSON.stringify({ action, at: new Date().toISOString(), raw })}\n`);
    fail(`hook.mjs ${action}: stdin is not JSON: ${err.message}`);
  }
  fs.appendFileSync(
    path.join(dir, 'calls.jsonl'),
    `${JSON.stringify({ action, at: new Date().toISOString(), input: doc })}\n`,
  );

  if (!ACTIONS.includes(action)) fail(`hook.mjs: unknown action ${JSON.stringify(action)}`, 2);
  if (doc?.action !== action) fail(`hook.mjs: argv says ${action}, stdin says ${JSON.stringify(doc?.action)}`, 2);
  const uuid = checkUuid(doc.cluster?.uuid);

  const delay = delayFor(dir, action, uuid);
  if (delay) await sleep(delay);

  if (await injectedFailure(dir, action, uuid)) {
    const secrets = Object.entries(doc.cluster.connectorSecrets ?? {});
    const lines = secrets.map(([name, value]) => `cannot apply secret ${name}=${value}`);
    fail([`injected failure of ${action} for cluster ${uuid}`, ...lines].join('\n'));
  }

  let output;
  switch (action) {
    case 'create':
    case 'update':
    case 'upgrade':
    case 'wake':
      output = await ensureRunning(dir, doc);
      break;
    case 'suspend':
      output = await suspend(dir, doc);
      break;
    case 'delete':
      output = await remove(dir, doc);
      break;
    case 'backup':
      output = backup(dir, doc, true);
      break;
    case 'delete-backup':
      output = backup(dir, doc, false);
      break;
  }
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((err) => fail(`hook.mjs ${process.argv[2]}: ${err.stack || err}`));
