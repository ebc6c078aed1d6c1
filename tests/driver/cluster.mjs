#!/usr/bin/env node
// A fake Camunda cluster for consoled's end-to-end tests:
//
//   cluster.mjs --state-dir D --uuid U --issuer I --audience A [--port P]
//
// Listens on 127.0.0.1 (port P, or one the system picks) and writes the port to D/U.port.
// GET /health/<component>   200 {"status":"UP"}; 503 {"status":"DOWN"} while D/U.down or
//                           D/U.down-<component> exists (to test health observation)
// GET /v2/topology          bearer token checked as a Camunda cluster configured with
//                           issuer-uri I, audiences [A] and client-id-claim azp would:
//                           200 {"clusterId": U, "client": <azp>}, or 401 {"error": <reason>}
// GET /operate, /tasklist, /optimize, /connectors   200 (something to link to)
// GET /__fake/identity      {"uuid", "pid", "port"} (lets the hook tell its process apart)

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    'state-dir': { type: 'string' },
    uuid: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    port: { type: 'string', default: '0' },
  },
});
for (const name of ['state-dir', 'uuid', 'issuer', 'audience']) {
  if (!opts[name]) {
    process.stderr.write(`cluster.mjs: --${name} is required\n`);
    process.exit(2);
  }
}
const STATE_DIR = opts['state-dir'];
const UUID = opts.uuid;
const ISSUER = opts.issuer;
const AUDIENCE = opts.audience;
const PORT_FILE = path.join(STATE_DIR, `${UUID}.port`);
const COMPONENTS = new Set(['zeebe', 'operate', 'tasklist', 'optimize', 'connectors']);
/** Clock skew tolerated on exp and nbf (Spring Security's JwtTimestampValidator uses 60 s). */
const LEEWAY_SECONDS = 30;
/** Tokens longer than this are refused unread. */
const MAX_TOKEN_BYTES = 16 * 1024;

const log = (msg) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);

class Refusal extends Error {}

// ---- keys: discovery, then JWKS; cached, fetched again when a token names an unknown kid ----

let keys = null; // Map kid -> KeyObject

async function fetchJson(url) {
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  } catch (err) {
    throw new Refusal(`cannot fetch ${url}: ${err.cause?.message ?? err.message}`);
  }
  if (!res.ok) throw new Refusal(`cannot fetch ${url}: HTTP ${res.status}`);
  try {
    return await res.json();
  } catch {
    throw new Refusal(`${url} did not answer JSON`);
  }
}

async function loadKeys() {
  const discovery = await fetchJson(`${ISSUER.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (discovery.issuer !== ISSUER) {
    throw new Refusal(`discovery names issuer ${JSON.stringify(discovery.issuer)}, expected ${JSON.stringify(ISSUER)}`);
  }
  if (typeof discovery.jwks_uri !== 'string') throw new Refusal('discovery has no jwks_uri');
  const jwks = await fetchJson(discovery.jwks_uri);
  if (!Array.isArray(jwks.keys)) throw new Refusal('JWKS has no keys array');
  const map = new Map();
  for (const jwk of jwks.keys) {
    if (typeof jwk.kid !== 'string' || jwk.kty !== 'EC' || jwk.crv !== 'P-256') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.alg !== undefined && jwk.alg !== 'ES256') continue;
    try {
      map.set(jwk.kid, crypto.createPublicKey({ key: jwk, format: 'jwk' }));
    } catch {
      // an unusable key is skipped, as a JWKS client would
    }
  }
  keys = map;
}

async function keyFor(kid) {
  if (!keys || !keys.has(kid)) await loadKeys();
  const key = keys.get(kid);
  if (!key) throw new Refusal(`no key with kid ${JSON.stringify(kid)}`);
  return key;
}

// ---- token verification ----

function b64urlJson(part, what) {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new Refusal(`${what} is not base64url`);
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Refusal(`${what} is not JSON`);
  }
}

async function verify(authorization) {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? '');
  if (!match) throw new Refusal('missing bearer token');
  const token = match[1];
  if (token.length > MAX_TOKEN_BYTES) throw new Refusal('token too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new Refusal('not a JWS compact serialization');
  const [h, p, s] = parts;
  const header = b64urlJson(h, 'header');
  if (header === null || typeof header !== 'object') throw new Refusal('header is not an object');
  if (header.alg !== 'ES256') throw new Refusal(`alg ${JSON.stringify(header.alg)} is not accepted`);
  if (header.crit !== undefined) throw new Refusal('crit header not supported');
  if (typeof header.kid !== 'string') throw new Refusal('no kid');
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new Refusal('signature is not base64url');
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== 64) throw new Refusal('signature has the wrong length for ES256');
  const key = await keyFor(header.kid);
  const ok = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
  if (!ok) throw new Refusal('bad signature');

  const claims = b64urlJson(p, 'payload');
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new Refusal('payload is not an object');
  if (claims.iss !== ISSUER) throw new Refusal(`iss ${JSON.stringify(claims.iss)} is not ${JSON.stringify(ISSUER)}`);
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!Array.isArray(aud) || !aud.includes(AUDIENCE)) {
    throw new Refusal(`aud ${JSON.stringify(claims.aud)} does not include ${JSON.stringify(AUDIENCE)}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number') throw new Refusal('no exp');
  if (claims.exp <= now - LEEWAY_SECONDS) throw new Refusal('expired');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + LEEWAY_SECONDS)) {
    throw new Refusal('not yet valid');
  }
  if (typeof claims.azp !== 'string' || claims.azp === '') throw new Refusal('no client id claim (azp)');
  return claims;
}

// ---- HTTP ----

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// Health requests answered so far: tests count how often consoled probes.
let healthRequests = 0;

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const route = url.pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });

  if (route === '/stats') return send(res, 200, { healthRequests });
  const health = /^\/health\/([a-z]+)$/.exec(route);
  if (health) {
    if (!COMPONENTS.has(health[1])) return send(res, 404, { error: 'unknown component' });
    healthRequests += 1;
    const down = fs.existsSync(path.join(STATE_DIR, `${UUID}.down`)) ||
      fs.existsSync(path.join(STATE_DIR, `${UUID}.down-${health[1]}`));
    return down ? send(res, 503, { status: 'DOWN' }) : send(res, 200, { status: 'UP' });
  }
  if (route === '/v2/topology') {
    try {
      const claims = await verify(req.headers.authorization);
      return send(res, 200, { clusterId: UUID, client: claims.azp });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      log(`401 ${route}: ${err.message}`);
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return send(res, 401, { error: err.message });
    }
  }
  if (route === '/__fake/identity') return send(res, 200, { uuid: UUID, pid: process.pid, port: server.address().port });
  const app = /^\/(operate|tasklist|optimize|connectors)\/?$/.exec(route);
  if (app) return send(res, 200, { component: app[1], clusterId: UUID });
  return send(res, 404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    log(`500 ${req.url}: ${err.stack || err}`);
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
    else res.destroy();
  });
});

server.on('error', (err) => {
  process.stderr.write(`cluster.mjs ${UUID}: ${err.message}\n`);
  process.exit(1);
});

server.listen(Number(opts.port), '127.0.0.1', () => {
  const { port } = server.address();
  const tmp = `${PORT_FILE}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${port}\n`);
  fs.renameSync(tmp, PORT_FILE);
  log(`fake cluster ${UUID} listening on 127.0.0.1:${port} (pid ${process.pid}), issuer ${ISSUER}, audience ${AUDIENCE}`);
});

function shutdown(signal) {
  log(`${signal}: stopping`);
  try {
    if (fs.readFileSync(PORT_FILE, 'utf8').trim() === String(server.address()?.port)) fs.rmSync(PORT_FILE, { force: true });
  } catch {
    // no port file
  }
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
