#!/usr/bin/env node
// restart.mjs <stateDir> <uuid>: start a fake cluster that a test killed again, on the port and
// with the arguments recorded in <stateDir>/<uuid>.json, and wait until it listens. Exits 0 when
// it runs (also when it was running already), 1 otherwise.

import path from 'node:path';
import { answersAs, checkUuid, files, isAlive, readJson, startCluster, withLock, withPort, writeJson } from './lib.mjs';

async function main() {
  const [dirArg, uuidArg] = process.argv.slice(2);
  if (!dirArg || !uuidArg) throw new Error('usage: restart.mjs <stateDir> <uuid>');
  const dir = path.resolve(dirArg);
  const uuid = checkUuid(uuidArg);
  const f = files(dir, uuid);
  await withLock(f.lock, async () => {
    const state = readJson(f.state);
    if (!state) throw new Error(`${f.state} does not exist: the cluster was never started, or was deleted`);
    if (!state.port || !Array.isArray(state.args)) throw new Error(`${f.state} records no port and arguments`);
    if (isAlive(state.pid) && (await answersAs(state.port, uuid))) {
      process.stdout.write(`fake cluster ${uuid} is running already (pid ${state.pid}, port ${state.port})\n`);
      return;
    }
    const args = withPort(state.args, state.port);
    const { pid, port } = await startCluster(dir, uuid, args);
    writeJson(f.state, { ...state, pid, port, args, suspended: false, restartedAt: new Date().toISOString() });
    process.stdout.write(`fake cluster ${uuid} restarted (pid ${pid}, port ${port})\n`);
  });
}

main().catch((err) => {
  process.stderr.write(`restart.mjs: ${err.message}\n`);
  process.exit(1);
});
