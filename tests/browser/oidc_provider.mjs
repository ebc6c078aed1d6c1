// A real OpenID provider for the single sign-on tests: oidc-provider (the certified Node
// implementation) on 127.0.0.1, plain http, with its built-in development login and consent
// pages, configured and driven by the test over a small JSON control API.
//
//   node oidc_provider.mjs
//
// listens on a free port and prints exactly one JSON line to stdout once listening:
//   {"issuer":"http://127.0.0.1:PORT","control":"http://127.0.0.1:PORT/__test"}
// then runs until killed (exits 0 on SIGTERM/SIGINT). Everything else (oidc-provider's
// notices, errors) goes to stderr.
//
// Control API (JSON over http on the same port, answered before the provider's routes):
//   POST /__test/configure   {"clients":[{client_id, client_secret, redirect_uris,
//                              post_logout_redirect_uris, ...}], "users":{"alice":{email,
//                              email_verified, name}, ...}}
//                            -> 204 (400 {"error"} on bad JSON or client metadata, the
//                            previous configuration kept); rebuilds the provider with these
//                            clients and users and keeps the signing key. Clients get
//                            grant_types [authorization_code], response_types [code] and
//                            token_endpoint_auth_method client_secret_basic unless the client
//                            object says otherwise; oidc-provider 9 takes a client_secret_basic
//                            client's secret by HTTP Basic or in the body (client_secret_post)
//                            alike. In Basic, client_id and secret are form-urlencoded before
//                            base64 (RFC 6749 2.3.1): a "+" in a secret sent raw is a space.
//   POST /__test/rotate-keys -> 200 {"kid":"..."}; a new RS256 key replaces the old one
//                            entirely (the old kid is gone from the JWKS), provider rebuilt.
//   GET  /__test/jwks-fetches -> 200 {"count":N}; GETs of /jwks (the jwks_uri) since start.
//   GET  /__test/state       -> 200 {"kid":"...","clients":[ids],"users":[names]} (debugging).
// Sessions, grants and codes live in one in-memory store shared by the rebuilt instances
// (oidc-provider's own memory adapter has a store per instance), and the cookies are signed
// with the same keys, so a rebuild or a rotation signs nobody out at the provider.
//
// Users: the account id is the login name typed on the login page (any password). A
// configured user's claims are sub (= the login name), email, email_verified and name; an
// unknown login name signs in too, with only sub (the relying party is the one to refuse).
//
// The development pages of oidc-provider 9.13.3 (lib/views/*.js, lib/helpers/defaults.js),
// both at GET /interaction/:uid, both with <title>Sign-in</title>; the prompt is in
// <div class="login-card"><h1>: "Sign-in" (login) or "Authorize" (consent):
//   login: <form autocomplete="off" action="http://127.0.0.1:PORT/interaction/:uid"
//     method="post"> with
//     input[name=prompt][value=login] (hidden), input[name=login] (type text, required),
//     input[name=password] (type password, required), button[type=submit].login-submit
//     "Sign-in"
//   consent: <ul> of the scopes and claims asked for, then a form with
//     input[name=prompt][value=consent] (hidden) and button[type=submit].login-submit
//     "Continue" (autofocus)
//   Selectors: "input[name=login]", "input[name=password]", "button.login-submit" (text
//   "Sign-in" on the login page, "Continue" on the consent page), ".login-card h1".
//   Each fresh browser goes through both; a browser already signed in at the provider (and
//   having consented for the client) is redirected straight back to the relying party.
//   logout (GET or POST /session/end, when the provider has a session; <title>Logout
//   Request</title>, <h1>Do you want to sign-out from 127.0.0.1:PORT?</h1>):
//     <form id="op.logoutForm" method="post" action="/session/end/confirm"> (xsrf hidden)
//     button[name=logout][value=yes] "Yes, sign me out" (form="op.logoutForm", autofocus),
//     button "No, stay signed in" (no name). Selector: 'button[name="logout"][value="yes"]'.
//     Without a provider session the page auto-submits itself (logout=yes) instead.
//   After confirming it redirects to post_logout_redirect_uri (plus state when given) if
//   registered for the client (client_id or id_token_hint required), otherwise to its own
//   /session/end/success page ("Sign-out Success").
// The pages @import a Google font: block outside requests in the browser.

import { createServer } from "node:http";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import Provider from "oidc-provider";

// oidc-provider prints its notices with console.info (stdout): stdout carries only the
// JSON line, so everything else goes to stderr.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

function newSigningKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: "jwk" }),
    kid: randomBytes(12).toString("base64url"),
    alg: "RS256",
    use: "sig",
  };
}

// oidc-provider's adapter interface over one store for every instance built. Entries expire
// after the lifetime oidc-provider gives them.
const store = new Map();
const byGrant = new Map();
const sessionByUid = new Map();
const byUserCode = new Map();

function live(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

class SharedAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
    if (this.model === "Session" && payload.uid) sessionByUid.set(payload.uid, id);
    if (payload.grantId && this.model !== "Grant") {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
      byGrant.get(payload.grantId).add(key);
    }
    if (payload.userCode) byUserCode.set(payload.userCode, id);
  }

  async find(id) {
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = sessionByUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = byUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of byGrant.get(grantId) ?? []) store.delete(key);
    byGrant.delete(grantId);
  }
}

let issuer = null;
let signingKey = newSigningKey();
let clients = [];
let users = {};
let jwksFetches = 0;
let provider = null;
let handler = null;
// Cookies are signed with the same keys across rebuilds, so a browser's provider session and
// interaction survive a configure or a rotation.
const cookieKeys = [randomBytes(32).toString("base64url")];

function clientMetadata(client) {
  return {
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
    id_token_signed_response_alg: "RS256",
    ...client,
  };
}

function build() {
  const next = new Provider(issuer, {
    adapter: SharedAdapter,
    clients: clients.map(clientMetadata),
    jwks: { keys: [signingKey] },
    cookies: {
      keys: cookieKeys,
      // No `secure` flag: the issuer is plain http (oidc-provider adds it only on https).
      long: { httpOnly: true, sameSite: "lax" },
      short: { httpOnly: true, sameSite: "lax" },
    },
    responseTypes: ["code"],
    scopes: ["openid", "email", "profile"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // The scope's claims go into the ID token too (the default puts them only in userinfo
    // when an access token is issued), so the relying party can read email from the token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // Explicit lifetimes (oidc-provider's defaults, which it prints a notice about otherwise).
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, Session: 14 * 24 * 3600, Grant: 14 * 24 * 3600 },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
    },
    enabledJWA: { idTokenSigningAlgValues: ["RS256"] },
    async findAccount(ctx, id) {
      const user = Object.hasOwn(users, id) ? users[id] : {};
      return {
        accountId: id,
        async claims() {
          return { ...user, sub: id };
        },
      };
    },
  });
  next.proxy = false;
  for (const event of [
    "server_error",
    "authorization.error",
    "grant.error",
    "end_session.error",
    "userinfo.error",
    "discovery.error",
    "jwks.error",
    "interaction.error",
  ]) {
    next.on(event, (ctx, err) => {
      const error = err ?? ctx;
      console.error(`oidc-provider ${event}: ${error?.name ?? ""} ${error?.message ?? error}${error?.error_description ? ` (${error.error_description})` : ""}`);
    });
  }
  provider = next;
  handler = next.callback();
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("error", reject);
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
  });
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function control(req, res, path) {
  if (req.method === "POST" && path === "/__test/configure") {
    let body;
    try {
      body = await readJson(req);
    } catch (err) {
      return json(res, 400, { error: `the body is not JSON: ${err.message}` });
    }
    if (!Array.isArray(body.clients ?? []) || typeof (body.users ?? {}) !== "object") {
      return json(res, 400, { error: "clients must be an array and users an object" });
    }
    const previous = { clients, users };
    clients = body.clients ?? [];
    users = body.users ?? {};
    try {
      build();
      // oidc-provider checks a client's metadata when it is first looked up: now, so that a
      // bad configuration is a 400 here rather than an error page in the browser.
      for (const client of clients) {
        if (!(await provider.Client.find(String(client.client_id)))) throw new Error(`client ${client.client_id} not found`);
      }
    } catch (err) {
      ({ clients, users } = previous);
      build();
      return json(res, 400, { error: String(err?.error_description ?? err?.message ?? err) });
    }
    res.writeHead(204);
    return res.end();
  }
  if (req.method === "POST" && path === "/__test/rotate-keys") {
    signingKey = newSigningKey();
    build();
    return json(res, 200, { kid: signingKey.kid });
  }
  if (req.method === "GET" && path === "/__test/jwks-fetches") {
    return json(res, 200, { count: jwksFetches });
  }
  if (req.method === "GET" && path === "/__test/state") {
    return json(res, 200, { kid: signingKey.kid, clients: clients.map((c) => c.client_id), users: Object.keys(users) });
  }
  return json(res, 404, { error: `no control endpoint ${req.method} ${path}` });
}

const server = createServer((req, res) => {
  const path = new URL(req.url, "http://127.0.0.1").pathname;
  if (path === "/__test" || path.startsWith("/__test/")) {
    control(req, res, path).catch((err) => {
      console.error(`control ${req.method} ${path}: ${err?.stack ?? err}`);
      if (!res.headersSent) json(res, 500, { error: String(err?.message ?? err) });
      else res.destroy();
    });
    return;
  }
  if (path === "/jwks" && req.method === "GET") jwksFetches += 1;
  handler(req, res);
});

server.on("clientError", (err, socket) => {
  socket.destroy();
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  build();
  process.stdout.write(`${JSON.stringify({ issuer, control: `${issuer}/__test` })}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
