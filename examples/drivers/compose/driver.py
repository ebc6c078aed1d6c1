#!/usr/bin/env python3
"""consoled exec driver: one Docker Compose project per cluster, `consoled-<uuid>`.

    driver.py ACTION < document.json

ACTION is create, update, upgrade, suspend, wake, delete, backup or delete-backup; the document
and the answer are described in docs/drivers.md. Python 3.8+, standard library only; runs
`docker compose` (Compose v2) from PATH.

This is an example to start from. It has been run only against a recording stand-in for docker
(examples/drivers/tests/), never against a real Docker engine: try it before relying on it.
See README.md next to it for what it does and leaves out.

Settings (environment):
  CONSOLED_COMPOSE_DIR        where each cluster's compose file and env file are kept
                              ($XDG_STATE_HOME/consoled-compose, or ~/.local/state/consoled-compose)
  CONSOLED_COMPOSE_BIND       host address the cluster's ports are published on  (127.0.0.1)
  CONSOLED_COMPOSE_HOST       host name consoled uses to reach them              (127.0.0.1)
  CONSOLED_COMPOSE_ELASTICSEARCH_IMAGE   (docker.elastic.co/elasticsearch/elasticsearch:8.18.0)
  DOCKER                      the executable                                      (docker)
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

ACTIONS = ("create", "update", "upgrade", "suspend", "wake", "delete", "backup", "delete-backup")
MAPPING_RULE_ID = "consoled-cluster-clients"
# Container ports: orchestration gRPC, REST and web applications, management; Connectors.
GRPC, HTTP, MANAGEMENT, CONNECTORS = 26500, 8080, 9600, 8080


class DriverError(Exception):
    pass


def setting(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else value


DOCKER = setting("DOCKER", "docker")


def run(argv, ok_errors=()):
    """Run a tool; its stderr goes to ours (consoled logs it, masked). Returns stdout."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = proc.stderr.decode(errors="replace")
    if err:
        sys.stderr.write(err if err.endswith("\n") else err + "\n")
    if proc.returncode != 0:
        if any(marker in err for marker in ok_errors):
            return None
        raise DriverError("%s failed (exit %d)" % (" ".join(argv[:4]), proc.returncode))
    return proc.stdout.decode()


# ---- the document ----


def read_document(action):
    try:
        doc = json.load(sys.stdin)
    except ValueError as err:
        raise DriverError("stdin is not JSON: %s" % err)
    if doc.get("version") != 1:
        raise DriverError("unsupported document version %r" % doc.get("version"))
    if doc.get("action") != action:
        raise DriverError("argv says %s, the document says %r" % (action, doc.get("action")))
    uuid = doc.get("cluster", {}).get("uuid", "")
    # It names a directory and a Compose project: lower-case letters, digits and '-'.
    if not re.match(r"^[a-z0-9][a-z0-9-]{0,62}$", uuid):
        raise DriverError("cluster uuid %r cannot name a project" % uuid)
    return doc


def state_root():
    default = os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state"),
        "consoled-compose",
    )
    return setting("CONSOLED_COMPOSE_DIR", default)


def paths(doc):
    uuid = doc["cluster"]["uuid"]
    directory = os.path.join(state_root(), uuid)
    return {
        "dir": directory,
        "compose": os.path.join(directory, "compose.yaml"),
        "env": os.path.join(directory, "connectors.env"),
        "project": "consoled-" + uuid,
    }


def camunda_minor(doc):
    versions = doc["cluster"].get("generation", {}).get("versions", {})
    match = re.match(r"^(\d+)\.(\d+)", versions.get("zeebe", ""))
    if not match:
        raise DriverError("the generation has no usable zeebe version: %r" % versions)
    return int(match.group(1)), int(match.group(2))


# ---- files ----


def env_file_text(doc):
    """The connector secrets as a Compose env file. Values are single-quoted, which Compose
    reads literally (no `$` interpolation, no escapes); a value that cannot be written so is
    refused rather than passed on altered."""
    lines = ["# Connector secrets of cluster %s, written by consoled's compose driver." % doc["cluster"]["uuid"]]
    for name, value in sorted((doc["cluster"].get("connectorSecrets") or {}).items()):
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise DriverError("connector secret name %r is not an environment variable name" % name)
        value = str(value)
        if "'" in value or value.endswith("\\"):
            raise DriverError(
                "connector secret %s holds a single quote or ends in a backslash, which this driver "
                "cannot write to a Compose env file" % name
            )
        lines.append("%s='%s'" % (name, value))
    return "\n".join(lines) + "\n"


def escape_dollars(value):
    """Compose interpolates `$` in compose files; `$$` is a literal one."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [escape_dollars(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_dollars(v) for k, v in value.items()}
    return value


def compose_model(doc):
    """The Compose file (JSON is YAML) for Camunda 8.8+: one orchestration cluster (Zeebe,
    Operate, Tasklist) that accepts the tokens consoled issues for this cluster's clients,
    Connectors, and Elasticsearch as its secondary storage."""
    cluster, auth = doc["cluster"], doc["auth"]
    versions = cluster["generation"]["versions"]
    p = paths(doc)
    bind = setting("CONSOLED_COMPOSE_BIND", "127.0.0.1")
    labels = {"consoled.camunda.io/cluster": cluster["uuid"]}
    # Identity as code in exact Spring property names: environment variables would turn the
    # map keys below ("admin", "mappingRules") into lower case.
    initialization = {
        "camunda": {
            "security": {
                "initialization": {
                    "mapping-rules": [
                        {"mapping-rule-id": MAPPING_RULE_ID, "claim-name": auth["clusterIdClaim"],
                         "claim-value": cluster["uuid"]}
                    ],
                    "default-roles": {"admin": {"mappingRules": [MAPPING_RULE_ID]}},
                }
            }
        }
    }
    services = {
        "elasticsearch": {
            "image": setting("CONSOLED_COMPOSE_ELASTICSEARCH_IMAGE", "docker.elastic.co/elasticsearch/elasticsearch:8.18.0"),
            "environment": {
                "discovery.type": "single-node",
                "xpack.security.enabled": "false",
                "ES_JAVA_OPTS": "-Xms1g -Xmx1g",
            },
            "volumes": ["elasticsearch:/usr/share/elasticsearch/data"],
            "healthcheck": {
                "test": ["CMD-SHELL", "curl -fs http://localhost:9200/_cluster/health?wait_for_status=yellow"],
                "interval": "10s",
                "retries": 30,
            },
            "restart": "unless-stopped",
            "labels": labels,
        },
        "orchestration": {
            "image": "camunda/camunda:%s" % versions["zeebe"],
            "environment": {
                "CAMUNDA_SECURITY_AUTHENTICATION_METHOD": "oidc",
                "CAMUNDA_SECURITY_AUTHENTICATION_UNPROTECTEDAPI": "false",
                "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_ISSUERURI": auth["issuer"],
                "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_AUDIENCES": auth["audience"],
                "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_CLIENTIDCLAIM": auth["clientIdClaim"],
                # For the web login, which consoled (a machine-client issuer) does not offer.
                "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_CLIENTID": "orchestration",
                "CAMUNDA_SECURITY_AUTHORIZATIONS_ENABLED": "true",
                "CAMUNDA_DATA_SECONDARYSTORAGE_TYPE": "elasticsearch",
                "CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_URL": "http://elasticsearch:9200",
                "SPRING_APPLICATION_JSON": json.dumps(initialization, separators=(",", ":")),
            },
            "ports": ["%s::%d" % (bind, port) for port in (GRPC, HTTP, MANAGEMENT)],
            "volumes": ["orchestration:/usr/local/camunda/data"],
            # Lets the containers reach a consoled on this host (--public-url
            # http://host.docker.internal:PORT); the issuer must be reachable from here.
            "extra_hosts": ["host.docker.internal:host-gateway"],
            "depends_on": {"elasticsearch": {"condition": "service_healthy"}},
            "restart": "unless-stopped",
            "labels": labels,
        },
        "connectors": {
            "image": "camunda/connectors-bundle:%s" % (versions.get("connectors") or versions["zeebe"]),
            "environment": {
                "CAMUNDA_CLIENT_RESTADDRESS": "http://orchestration:%d" % HTTP,
                "CAMUNDA_CLIENT_GRPCADDRESS": "http://orchestration:%d" % GRPC,
            },
            # The secrets reach the container from this file (mode 0600), never from argv.
            "env_file": [p["env"]],
            "ports": ["%s::%d" % (bind, CONNECTORS)],
            "depends_on": ["orchestration"],
            "restart": "unless-stopped",
            "labels": labels,
        },
    }
    return escape_dollars({
        "name": p["project"],
        "services": services,
        "volumes": {"elasticsearch": {}, "orchestration": {}},
    })


def write_private(path, text):
    """Write a file only its owner can read, replacing it whole."""
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_files(doc):
    p = paths(doc)
    os.makedirs(p["dir"], mode=0o700, exist_ok=True)
    write_private(p["env"], env_file_text(doc))
    write_private(p["compose"], json.dumps(compose_model(doc), indent=2) + "\n")


def compose(doc, *args, with_file=True, ok_errors=()):
    p = paths(doc)
    argv = [DOCKER, "compose", "--project-name", p["project"]]
    if with_file:
        argv += ["--file", p["compose"]]
    return run(argv + list(args), ok_errors=ok_errors)


# ---- what consoled is told ----


def published_port(doc, service, port):
    out = (compose(doc, "port", service, str(port)) or "").strip()
    match = re.search(r":(\d+)$", out.splitlines()[0] if out else "")
    if not match:
        raise DriverError("%s:%d is not published (yet): %r" % (service, port, out))
    return int(match.group(1))


def urls(doc):
    host = setting("CONSOLED_COMPOSE_HOST", "127.0.0.1")
    grpc = published_port(doc, "orchestration", GRPC)
    http = published_port(doc, "orchestration", HTTP)
    management = published_port(doc, "orchestration", MANAGEMENT)
    connectors = published_port(doc, "connectors", CONNECTORS)
    ready = "http://%s:%d/actuator/health/readiness" % (host, management)
    return {
        "endpoints": {
            "zeebeGrpc": "%s:%d" % (host, grpc),
            "zeebeRest": "http://%s:%d/v2" % (host, http),
            "operate": "http://%s:%d/operate" % (host, http),
            "tasklist": "http://%s:%d/tasklist" % (host, http),
            "connectors": "http://%s:%d" % (host, connectors),
        },
        "health": {
            "zeebe": ready,
            "operate": ready,
            "tasklist": ready,
            "connectors": "http://%s:%d/actuator/health/readiness" % (host, connectors),
        },
    }


# ---- actions ----


def apply_project(doc):
    major, minor = camunda_minor(doc)
    if (major, minor) < (8, 8):
        raise DriverError(
            "generation %s is Camunda %d.%d: this driver configures the 8.8+ orchestration "
            "image (camunda/camunda); use a catalog with 8.8+ generations"
            % (doc["cluster"]["generation"].get("name"), major, minor)
        )
    write_files(doc)
    # Recreates the services whose image or settings changed (a new generation, new secrets).
    compose(doc, "up", "--detach", "--remove-orphans")
    return urls(doc)


def suspend(doc):
    if not os.path.exists(paths(doc)["compose"]):
        return {}  # deleted, or never created: nothing runs
    compose(doc, "stop")
    return {}


def wake(doc):
    if not os.path.exists(paths(doc)["compose"]):
        return apply_project(doc)
    compose(doc, "start")
    return urls(doc)


def delete(doc):
    p = paths(doc)
    # Compose finds a project's containers, networks and volumes by its name, file or not.
    compose(doc, "down", "--volumes", "--remove-orphans", with_file=os.path.exists(p["compose"]))
    shutil.rmtree(p["dir"], ignore_errors=True)
    return {}


def backup_id(doc):
    """Camunda backup ids are increasing integers: the backup's creation time in milliseconds."""
    created = doc.get("backup", {}).get("createdAt", "")
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", created)
    if not match:
        raise DriverError("backup.createdAt %r is not an RFC 3339 time" % created)
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    when = datetime.datetime.strptime(match.group(1) + zone.replace(":", ""), "%Y-%m-%dT%H:%M:%S%z")
    millis = int(((match.group(2) or ".0")[1:] + "000")[:3])
    return int(when.timestamp()) * 1000 + millis


def management(doc, method, path, body=None, ok_statuses=()):
    host = setting("CONSOLED_COMPOSE_HOST", "127.0.0.1")
    url = "http://%s:%d/actuator/%s" % (host, published_port(doc, "orchestration", MANAGEMENT), path)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    except urllib.error.HTTPError as err:
        if err.code not in ok_statuses:
            raise DriverError("%s %s: HTTP %d %s" % (method, url, err.code, err.read(2000).decode(errors="replace")))
    except urllib.error.URLError as err:
        raise DriverError("%s %s: %s" % (method, url, err.reason))


def backup(doc):
    bid = backup_id(doc)
    # Web application data first, then the runtime, as Camunda's backup guide orders them. A
    # retry finds the backup there already (409): fine.
    management(doc, "POST", "backupHistory", {"backupId": bid}, ok_statuses=(409,))
    management(doc, "POST", "backupRuntime", {"backupId": bid}, ok_statuses=(409,))
    return {}


def delete_backup(doc):
    bid = backup_id(doc)
    management(doc, "DELETE", "backupRuntime/%d" % bid, ok_statuses=(404,))
    management(doc, "DELETE", "backupHistory/%d" % bid, ok_statuses=(404,))
    return {}


def main(argv):
    if len(argv) != 2 or argv[1] not in ACTIONS:
        sys.stderr.write("usage: driver.py {%s} < document.json\n" % ",".join(ACTIONS))
        return 2
    action = argv[1]
    try:
        doc = read_document(action)
        handler = {
            "create": apply_project,
            "update": apply_project,
            "upgrade": apply_project,
            "suspend": suspend,
            "wake": wake,
            "delete": delete,
            "backup": backup,
            "delete-backup": delete_backup,
        }[action]
        result = handler(doc)
    except (DriverError, KeyError, OSError, ValueError) as err:
        sys.stderr.write("compose driver %s: %s\n" % (action, err if not isinstance(err, KeyError) else "missing field %s" % err))
        return 1
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
