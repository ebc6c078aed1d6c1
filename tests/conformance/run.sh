#!/usr/bin/env bash
# Conformance: runs schemathesis against a live consoled and its own /openapi.json, with
# checks that every response is no server error, has a documented status code and content
# type, and matches its documented schema. Every operation is covered; the seeded data
# (a Healthy cluster with a client, a secret, a backup, a monitoring client and a member,
# plus one of each for the delete operations to delete, and a cluster for the deactivations)
# gives the path parameters real
# values. Exits non-zero on any finding.
#
#   tests/conformance/run.sh            # from the repository root, or anywhere
#
# SCHEMATHESIS_MAX_EXAMPLES (default 50) bounds the test cases per operation and phase;
# CONSOLED_CONFORMANCE_ARGS adds schemathesis options (e.g.
# `--report har --report-dir /tmp/st-report`; relative paths land in a scratch directory).
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
VENV=${CONSOLED_CONFORMANCE_VENV:-target/conformance-venv}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-50}

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
  echo "conformance: installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet --bin consoled
BIN=target/debug/consoled

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN_ID=conformance-admin
# URL-safe: it may start with "-", so it is passed as --flag=value below.
ADMIN_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
MASTER_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')

NO_COLOR=1 CONSOLED_LOG=warn "$BIN" serve \
  --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --master-key="$MASTER_KEY" \
  --bootstrap-client-id "$ADMIN_ID" --bootstrap-client-secret="$ADMIN_SECRET" \
  --provision-delay 0s >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fs "$BASE/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$BASE/readyz" >/dev/null || { echo "conformance: consoled did not start"; cat "$WORK/server.log"; exit 1; }

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -fsS "$BASE/oauth/token" -d grant_type=client_credentials -d audience=api.cloud.camunda.io \
  -d client_id="$ADMIN_ID" -d client_secret="$ADMIN_SECRET" | json '["access_token"]')
api() { # METHOD PATH [JSON BODY]
  local args=(-fsS -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
  if [ $# -ge 3 ]; then args+=(-d "$3"); fi
  curl "${args[@]}"
}

PARAMS=$(api GET /clusters/parameters)
CREATE_BODY=$(echo "$PARAMS" | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(json.dumps({"name": "NAME", "channelId": p["channels"][0]["uuid"],
  "generationId": p["channels"][0]["defaultGeneration"]["uuid"],
  "regionId": p["regions"][0]["uuid"], "planTypeId": p["clusterPlanTypes"][0]["uuid"]}))')
new_cluster() { api POST /clusters "${CREATE_BODY/NAME/$1}" | json '["clusterId"]'; }
wait_healthy() {
  for _ in $(seq 1 100); do
    [ "$(api GET "/clusters/$1" | json '["status"]["ready"]')" = Healthy ] && return 0
    sleep 0.2
  done
  echo "conformance: cluster $1 never became Healthy"; exit 1
}

CLUSTER=$(new_cluster conformance)
VICTIM_CLUSTER=$(new_cluster conformance-victim)
SWITCH_CLUSTER=$(new_cluster conformance-switch)
wait_healthy "$CLUSTER"
wait_healthy "$VICTIM_CLUSTER"
wait_healthy "$SWITCH_CLUSTER"
CLIENT_ID=$(api POST "/clusters/$CLUSTER/clients" '{"clientName": "worker"}' | json '["clientId"]')
VICTIM_CLIENT_ID=$(api POST "/clusters/$CLUSTER/clients" '{"clientName": "victim"}' | json '["clientId"]')
api POST "/clusters/$CLUSTER/secrets" '{"secretName": "SEEDED", "secretValue": "value"}'
api POST "/clusters/$CLUSTER/secrets" '{"secretName": "VICTIM", "secretValue": "value"}'
BACKUP=$(api POST "/clusters/$CLUSTER/backups" | json '["uuid"]')
VICTIM_BACKUP=$(api POST "/clusters/$CLUSTER/backups" | json '["uuid"]')
api POST "/clusters/$CLUSTER/monitoring"
MONITORING=$(api POST "/clusters/$CLUSTER/monitoring/clients" '{"username": "prometheus"}')
MONITORING_CLIENT=$(echo "$MONITORING" | json '["uuid"]')
MONITORING_PASSWORD=$(echo "$MONITORING" | json '["password"]')
VICTIM_MONITORING_CLIENT=$(api POST "/clusters/$CLUSTER/monitoring/clients" '{"username": "victim"}' | json '["uuid"]')
api POST "/clusters/$CLUSTER/secure-connectivity" '{"allowedPrincipals": ["123456789012"], "allowedRegions": ["us-east-1"]}'
api POST /members/seeded@example.com '{"orgRoles": ["developer"]}'
api POST /members/victim@example.com '{"orgRoles": ["developer"]}'

export CONSOLED_TOKEN=$TOKEN CONSOLED_MONITORING_PASSWORD=$MONITORING_PASSWORD
cat >"$WORK/schemathesis.toml" <<TOML
[auth.openapi.bearer]
bearer = "\${CONSOLED_TOKEN}"

[auth.openapi.basic]
username = "prometheus"
password = "\${CONSOLED_MONITORING_PASSWORD}"

[parameters]
"path.clusterUuid" = "$CLUSTER"
"path.clientId" = "$CLIENT_ID"
"path.secretName" = "SEEDED"
"path.backupId" = "$BACKUP"
"path.clientUuid" = "$MONITORING_CLIENT"
"path.email" = "seeded@example.com"

# The delete operations delete their own seeds, so the others keep theirs.
[[operations]]
include-operation-id = "DeleteCluster"
parameters = { "path.clusterUuid" = "$VICTIM_CLUSTER" }

[[operations]]
include-operation-id = "DeleteClient"
parameters = { "path.clientId" = "$VICTIM_CLIENT_ID" }

[[operations]]
include-operation-id = "DeleteSecret"
parameters = { "path.secretName" = "VICTIM" }

[[operations]]
include-operation-id = "DeleteBackup"
parameters = { "path.backupId" = "$VICTIM_BACKUP" }

[[operations]]
include-operation-id = "DeleteMonitoringClient"
parameters = { "path.clientUuid" = "$VICTIM_MONITORING_CLIENT" }

# Deactivating monitoring deletes its clients, so it (and deactivating secure connectivity)
# works on a cluster of its own.
[[operations]]
include-operation-id = ["DeactivateMonitoring", "DeactivateSecureConnectivity"]
parameters = { "path.clusterUuid" = "$SWITCH_CLUSTER" }

[[operations]]
include-operation-id = "DeleteMember"
parameters = { "path.email" = "victim@example.com" }
TOML

echo "conformance: schemathesis $SCHEMATHESIS_VERSION against $BASE/openapi.json"
status=0
# From the scratch directory, so schemathesis keeps its cache (.schemathesis/) there.
VENV_ABS=$(cd "$VENV" && pwd)
(cd "$WORK" && timeout 600 "$VENV_ABS/bin/schemathesis" --no-color --config-file "$WORK/schemathesis.toml" \
  run "$BASE/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$MAX_EXAMPLES" \
  --seed 20261127 \
  --workers 2 \
  --request-timeout 10 \
  --suppress-health-check all \
  ${CONSOLED_CONFORMANCE_ARGS:-}) || status=$?
if [ "$status" -ne 0 ]; then
  echo "conformance: schemathesis found problems (exit $status); server log:"
  tail -n 50 "$WORK/server.log"
fi
exit "$status"
