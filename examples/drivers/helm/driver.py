#!/usr/bin/env python3
"""consoled exec driver: one Camunda Helm release per cluster, each in its own namespace.

    driver.py ACTION < document.json

ACTION is create, update, upgrade, suspend, wake, delete, backup or delete-backup; the document
and the answer are described in docs/drivers.md. Python 3.8+, standard library only; runs
`helm` and `kubectl` from PATH against the current kubeconfig context.

This is an example to start from. It has been run only against recording stand-ins for helm
and kubectl (examples/drivers/tests/), never against a real Kubernetes cluster: try it on a
test cluster before relying on it. See README.md next to it for what it does and leaves out.

Settings (environment):
  CONSOLED_HELM_CHART            chart name or reference   (camunda-platform)
  CONSOLED_HELM_REPO             chart repository URL     (https://helm.camunda.io; empty: none,
                                                           for an OCI reference or a local chart)
  CONSOLED_HELM_CHART_VERSION    chart version constraint (derived from the generation: Camunda
                                                           8.N is chart N+5, so 8.8 -> ^13.0.0)
  CONSOLED_HELM_VALUES           a values file of your own, applied before the generated one
                                 (storage, resources, ingress, the Connectors' client, ...)
  CONSOLED_HELM_NAMESPACE_PREFIX namespace of a cluster = prefix + uuid   (camunda-)
  CONSOLED_HELM_RELEASE          release name in that namespace            (camunda)
  CONSOLED_HELM_SERVICE_DOMAIN   cluster DNS suffix of the printed URLs    (svc.cluster.local)
  HELM, KUBECTL                  the executables                           (helm, kubectl)
"""

import base64
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

ACTIONS = ("create", "update", "upgrade", "suspend", "wake", "delete", "backup", "delete-backup")
SECRET_NAME = "consoled-connector-secrets"
REPLICAS_ANNOTATION = "consoled.camunda.io/replicas"
MAPPING_RULE_ID = "consoled-cluster-clients"


class DriverError(Exception):
    pass


def setting(name, default):
    value = os.environ.get(name)
    return default if value is None else value


HELM = setting("HELM", "helm")
KUBECTL = setting("KUBECTL", "kubectl")


def run(argv, stdin=None, ok_errors=()):
    """Run a tool; its stderr goes to ours (consoled logs it, masked). Returns stdout.

    A failure whose stderr contains one of `ok_errors` counts as success (returns None), so
    that "already there" and "already gone" keep every action idempotent.
    """
    proc = subprocess.run(
        argv,
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    err = proc.stderr.decode(errors="replace")
    if err:
        sys.stderr.write(err if err.endswith("\n") else err + "\n")
    if proc.returncode != 0:
        if any(marker in err for marker in ok_errors):
            return None
        raise DriverError("%s %s failed (exit %d)" % (argv[0], argv[1], proc.returncode))
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
    # It names a namespace and labels: a DNS label of lower-case letters, digits and '-'.
    if not re.match(r"^[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$", uuid):
        raise DriverError("cluster uuid %r cannot name a namespace" % uuid)
    return doc


def camunda_minor(doc):
    """(8, 8) from the generation's Zeebe version "8.8.3" (or "8.8.0-alpha5")."""
    versions = doc["cluster"].get("generation", {}).get("versions", {})
    match = re.match(r"^(\d+)\.(\d+)", versions.get("zeebe", ""))
    if not match:
        raise DriverError("the generation has no usable zeebe version: %r" % versions)
    return int(match.group(1)), int(match.group(2))


def chart_version(doc):
    configured = os.environ.get("CONSOLED_HELM_CHART_VERSION")
    if configured:
        return configured
    major, minor = camunda_minor(doc)
    if major != 8:
        raise DriverError("no chart version known for Camunda %d.%d: set CONSOLED_HELM_CHART_VERSION" % (major, minor))
    return "^%d.0.0" % (minor + 5)


def names(doc):
    uuid = doc["cluster"]["uuid"]
    namespace = setting("CONSOLED_HELM_NAMESPACE_PREFIX", "camunda-") + uuid
    release = setting("CONSOLED_HELM_RELEASE", "camunda")
    return namespace, release


def labels(doc):
    out = {
        "app.kubernetes.io/managed-by": "consoled",
        "consoled.camunda.io/cluster": doc["cluster"]["uuid"],
    }
    org = doc["cluster"].get("orgId") or ""
    if re.match(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$", org):
        out["consoled.camunda.io/org"] = org
    return out


# ---- what is applied ----


def namespace_manifest(doc):
    namespace, _ = names(doc)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels(doc)}}


def secret_manifest(doc):
    """The connector secrets as a Secret. Sent to `kubectl apply -f -` on stdin, never argv."""
    namespace, _ = names(doc)
    data = {}
    for name, value in sorted((doc["cluster"].get("connectorSecrets") or {}).items()):
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise DriverError("connector secret name %r is not an environment variable name" % name)
        data[name] = base64.b64encode(str(value).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": SECRET_NAME, "namespace": namespace, "labels": labels(doc)},
        "data": data,
    }


def values(doc):
    """Helm values (JSON is YAML) for Camunda 8.8+ (chart 13+): the orchestration cluster
    accepts the tokens consoled issues for this cluster's clients, and no others."""
    cluster, auth = doc["cluster"], doc["auth"]
    versions = cluster["generation"]["versions"]
    oidc_env = [
        {"name": "CAMUNDA_SECURITY_AUTHENTICATION_METHOD", "value": "oidc"},
        {"name": "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_ISSUERURI", "value": auth["issuer"]},
        {"name": "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_AUDIENCES", "value": auth["audience"]},
        {"name": "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_CLIENTIDCLAIM", "value": auth["clientIdClaim"]},
    ]
    out = {
        "orchestration": {
            "image": {"tag": versions["zeebe"]},
            "security": {
                "authentication": {
                    "method": "oidc",
                    "unprotectedApi": False,
                    "oidc": {
                        "type": "GENERIC",
                        "issuer": auth["issuer"],
                        "audience": auth["audience"],
                        "clientIdClaim": auth["clientIdClaim"],
                    },
                },
                "authorizations": {"enabled": True},
                "initialization": {
                    # Every client consoled creates for this cluster carries the cluster id
                    # claim: map it to the admin role, so they may do what Console clients can.
                    "mappingRules": [
                        {
                            "mappingRuleId": MAPPING_RULE_ID,
                            "claimName": auth["clusterIdClaim"],
                            "claimValue": cluster["uuid"],
                        }
                    ],
                    "defaultRoles": {"admin": {"users": [], "mappingRules": [MAPPING_RULE_ID]}},
                },
            },
            # The same settings as Spring environment variables: they win over the chart's
            # generated application.yaml, whose audience list also holds the chart's defaults.
            "env": oidc_env,
            "podLabels": labels(doc),
        },
        "connectors": {
            "envFrom": [{"secretRef": {"name": SECRET_NAME}}],
            "podLabels": labels(doc),
        },
    }
    if versions.get("connectors"):
        out["connectors"]["image"] = {"tag": versions["connectors"]}
    return out


def urls(doc):
    namespace, release = names(doc)
    domain = setting("CONSOLED_HELM_SERVICE_DOMAIN", "svc.cluster.local")
    gateway = "%s-zeebe-gateway.%s.%s" % (release, namespace, domain)
    connectors = "%s-connectors.%s.%s" % (release, namespace, domain)
    # Operate and Tasklist are part of the orchestration application since 8.8: one readiness.
    ready = "http://%s:9600/actuator/health/readiness" % gateway
    return {
        "endpoints": {
            "zeebeGrpc": "%s:26500" % gateway,
            "zeebeRest": "http://%s:8080/v2" % gateway,
            "operate": "http://%s:8080/operate" % gateway,
            "tasklist": "http://%s:8080/tasklist" % gateway,
            "connectors": "http://%s:8080" % connectors,
        },
        "health": {
            "zeebe": ready,
            "operate": ready,
            "tasklist": ready,
            "connectors": "http://%s:8080/actuator/health/readiness" % connectors,
        },
    }


# ---- actions ----


def apply_release(doc):
    major, minor = camunda_minor(doc)
    if (major, minor) < (8, 8):
        raise DriverError(
            "generation %s is Camunda %d.%d: this driver configures the 8.8+ chart "
            "(orchestration.security.*); use a catalog with 8.8+ generations"
            % (doc["cluster"]["generation"].get("name"), major, minor)
        )
    namespace, release = names(doc)
    run([KUBECTL, "apply", "-f", "-"], stdin=json.dumps(namespace_manifest(doc)))
    run([KUBECTL, "apply", "-f", "-"], stdin=json.dumps(secret_manifest(doc)))

    fd, values_file = tempfile.mkstemp(prefix="consoled-values-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(values(doc), out, indent=2)
        argv = [HELM, "upgrade", "--install", release, setting("CONSOLED_HELM_CHART", "camunda-platform")]
        repo = setting("CONSOLED_HELM_REPO", "https://helm.camunda.io")
        if repo:
            argv += ["--repo", repo]
        argv += ["--version", chart_version(doc), "--namespace", namespace]
        base = os.environ.get("CONSOLED_HELM_VALUES")
        if base:
            argv += ["--values", base]
        argv += ["--values", values_file]
        run(argv)
    finally:
        os.unlink(values_file)

    if doc["action"] == "update":
        # Connectors read their secrets from the environment at start.
        run([KUBECTL, "rollout", "restart", "deployment/%s-connectors" % release, "--namespace", namespace])
    return urls(doc)


def get_json(argv):
    out = run(argv, ok_errors=("NotFound", "not found"))
    return None if out is None else json.loads(out)


def suspend(doc):
    namespace, _ = names(doc)
    ns = get_json([KUBECTL, "get", "namespace", namespace, "--output", "json"])
    if ns is None:
        return {}  # deleted, or never created: nothing runs
    # Remember each workload's replicas, merged with what an earlier attempt remembered: a
    # retried suspend sees zeros and must not forget the real counts.
    annotations = ns.get("metadata", {}).get("annotations") or {}
    remembered = json.loads(annotations.get(REPLICAS_ANNOTATION, "{}"))
    workloads = get_json([KUBECTL, "get", "statefulsets,deployments", "--namespace", namespace, "--output", "json"])
    for item in (workloads or {}).get("items", []):
        replicas = item.get("spec", {}).get("replicas", 1)
        if replicas:
            remembered["%s/%s" % (item["kind"].lower(), item["metadata"]["name"])] = replicas
    run(
        [KUBECTL, "annotate", "--overwrite", "namespace", namespace,
         "%s=%s" % (REPLICAS_ANNOTATION, json.dumps(remembered, sort_keys=True, separators=(",", ":")))]
    )
    run([KUBECTL, "scale", "statefulsets,deployments", "--all", "--replicas=0", "--namespace", namespace])
    return {}


def wake(doc):
    namespace, _ = names(doc)
    ns = get_json([KUBECTL, "get", "namespace", namespace, "--output", "json"])
    annotations = ((ns or {}).get("metadata") or {}).get("annotations") or {}
    if REPLICAS_ANNOTATION not in annotations:
        # Not suspended by us (or a retry after the annotation was removed): the release's own
        # replica counts are what a fresh apply sets.
        return apply_release(doc)
    for workload, replicas in sorted(json.loads(annotations[REPLICAS_ANNOTATION]).items()):
        run([KUBECTL, "scale", workload, "--replicas=%d" % replicas, "--namespace", namespace])
    run([KUBECTL, "annotate", "namespace", namespace, REPLICAS_ANNOTATION + "-"])
    return urls(doc)


def delete(doc):
    namespace, release = names(doc)
    listed = run([HELM, "list", "--namespace", namespace, "--all", "--short", "--filter", "^%s$" % re.escape(release)])
    if listed.split():
        run([HELM, "uninstall", release, "--namespace", namespace], ok_errors=("not found",))
    run([KUBECTL, "delete", "namespace", namespace, "--ignore-not-found", "--wait=false"])
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


def management_path(doc, suffix):
    """The orchestration cluster's management API, reached through the API server's service proxy."""
    namespace, release = names(doc)
    return "/api/v1/namespaces/%s/services/%s-zeebe-gateway:9600/proxy/actuator/%s" % (namespace, release, suffix)


def backup(doc):
    body = json.dumps({"backupId": backup_id(doc)})
    # Web application data (Operate, Tasklist) first, then the runtime (Zeebe), as Camunda's
    # backup guide orders them. A retry finds the backup there already (409): fine.
    for kind in ("backupHistory", "backupRuntime"):
        run([KUBECTL, "create", "--raw", management_path(doc, kind), "-f", "-"], stdin=body,
            ok_errors=("Conflict", "AlreadyExists", "already exists"))
    return {}


def delete_backup(doc):
    bid = backup_id(doc)
    for kind in ("backupRuntime", "backupHistory"):
        run([KUBECTL, "delete", "--raw", management_path(doc, "%s/%d" % (kind, bid))],
            ok_errors=("NotFound", "not found"))
    return {}


def main(argv):
    if len(argv) != 2 or argv[1] not in ACTIONS:
        sys.stderr.write("usage: driver.py {%s} < document.json\n" % ",".join(ACTIONS))
        return 2
    action = argv[1]
    try:
        doc = read_document(action)
        handler = {
            "create": apply_release,
            "update": apply_release,
            "upgrade": apply_release,
            "suspend": suspend,
            "wake": wake,
            "delete": delete,
            "backup": backup,
            "delete-backup": delete_backup,
        }[action]
        result = handler(doc)
    except (DriverError, KeyError, OSError, ValueError) as err:
        sys.stderr.write("helm driver %s: %s\n" % (action, err if not isinstance(err, KeyError) else "missing field %s" % err))
        return 1
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
