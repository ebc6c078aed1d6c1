// Shared by hook.mjs and restart.mjs: the state directory's files, and starting and
// stopping fake clusters. Node built-ins only.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLUSTER_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cluster.mjs');

/** Cluster uuids name files in the state directory: refuse anything that could escape it. */
export function checkUuid(uuid) {
  if (typeof uuid !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(uuid)) {
    throw new Error(`not a usable cluster uuid: ${JSON.stringify(uuid)}`);
  }
  return uuid;
}

export const files = (dir, uuid) => ({
  state: path.join(dir, `${uuid}.json`),
  port: path.join(dir, `${uuid}.port`),
  log: path.join(dir, `${uuid}.log`),
  lock: path.join(dir, `${uuid}.lock`),
});

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
}

/** Write a whole file or nothing: a reader never sees half of it. */
export function writeAtomically(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export const writeJson = (file, value) => writeAtomically(file, `${JSON.stringify(value, null, 2)}\n`);

export function removeFile(file) {
  fs.rmSync(file, { force: true, recursive: true });
}

/** Whether a process runs (a zombie does not count). */
export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): kill(0) is all we have
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid, graceMs = 3000) {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(20);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
}

/**
 * A lock per cluster, so that two hooks for the same cluster (a consoled killed mid-step leaves
 * its hook running while the next attempt starts) never both start a process. The lock is a
 * directory holding the owner's pid; a lock whose owner died is taken over.
 */
export async function withLock(lockDir, fn, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'owner'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(path.join(lockDir, 'owner'), 'utf8'));
      } catch {
        // the owner is between mkdir and writing its pid, or just released it
      }
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        removeFile(lockDir);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockDir}`);
      await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    removeFile(lockDir);
  }
}

/** Whether the process on `port` is the fake cluster of `uuid`. */
export async function answersAs(port, uuid) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/__fake/identity`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return false;
    const body = await res.json();
    return body.uuid === uuid;
  } catch {
    return false;
  }
}

export function tail(file, bytes = 2000) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

/**
 * Start cluster.mjs detached (it outlives the hook), its output appended to its log file, and
 * wait until it has written the port it listens on. Resolves `{pid, port}`.
 */
export async function startCluster(dir, uuid, args, timeoutMs = 10000) {
  const f = files(dir, uuid);
  removeFile(f.port);
  const log = fs.openSync(f.log, 'a');
  const child = spawn(process.execPath, [CLUSTER_SCRIPT, ...args], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(
        `fake cluster ${uuid} exited (${exited.code ?? exited.signal}) before listening:\n${tail(f.log)}`,
      );
    }
    let text = null;
    try {
      text = fs.readFileSync(f.port, 'utf8').trim();
    } catch {
      // not written yet
    }
    if (text && /^\d+$/.test(text)) return { pid: child.pid, port: Number(text) };
    await sleep(20);
  }
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
  throw new Error(`fake cluster ${uuid} did not listen within ${timeoutMs} ms:\n${tail(f.log)}`);
}

/** `args` with `--port` set to `port` (replacing one that is there). */
export function withPort(args, port) {
  const out = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') {
      i++;
      continue;
    }
    out.push(args[i]);
  }
  return [...out, '--port', String(port)];
}

export function endpointsFor(port) {
  const base = `http://127.0.0.1:${port}`;
  return {
    endpoints: {
      zeebeGrpc: `127.0.0.1:${port}`,
      zeebeRest: `${base}/v2`,
      operate: `${base}/operate`,
      tasklist: `${base}/tasklist`,
      optimize: `${base}/optimize`,
      connectors: `${base}/connectors`,
    },
    health: {
      zeebe: `${base}/health/zeebe`,
      operate: `${base}/health/operate`,
      tasklist: `${base}/health/tasklist`,
      optimize: `${base}/health/optimize`,
      connectors: `${base}/health/connectors`,
    },
  };
}
