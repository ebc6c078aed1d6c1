#!/usr/bin/env python3
"""A recording stand-in for `helm`, `kubectl` and `docker` (called through links of those
names). Each call is appended to $STUB_DIR/calls.jsonl with its argv, its stdin and the
contents of the files it was given; a small model of the world in $STUB_DIR/state.json lets
the drivers' idempotency be tested (releases, namespaces, workloads, Compose projects).

$STUB_FAIL="helm upgrade" (a prefix of "<tool> <args>") makes matching calls fail.
$STUB_DOCKER_PORTS='{"orchestration:9600": 12345}' chooses what `docker compose port` prints.
"""

import json
import os
import re
import stat
import sys
import zlib

STUB_DIR = os.environ["STUB_DIR"]
STATE = os.path.join(STUB_DIR, "state.json")


def load():
    try:
        with open(STATE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"releases": {}, "namespaces": {}, "raw": [], "projects": {}}


def save(state):
    with open(STATE, "w") as f:
        json.dump(state, f, indent=2)


def read_file(path):
    try:
        with open(path) as f:
            text = f.read()
        return {"content": text, "mode": oct(stat.S_IMODE(os.stat(path).st_mode))}
    except OSError as err:
        return {"error": str(err)}


def option(args, *names):
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            return args[i + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg[len(name) + 1:]
    return None


def options(args, *names):
    out = []
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            out.append(args[i + 1])
    return out


def positional(args, takes_value):
    """Arguments that are neither flags nor the values of flags in `takes_value`."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in takes_value
        else:
            out.append(arg)
    return out


def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)


# ---- helm ----

HELM_VALUED = {"--namespace", "-n", "--repo", "--version", "--values", "-f", "--filter", "--kube-context", "--timeout"}


def helm(args, state):
    namespace = option(args, "--namespace", "-n") or "default"
    words = positional(args, HELM_VALUED)
    command = words[0] if words else ""
    if command == "upgrade":
        release, chart = words[1], words[2]
        workloads = {
            "statefulset/%s-zeebe" % release: 3,
            "deployment/%s-connectors" % release: 1,
        }
        if namespace not in state["namespaces"]:
            fail('Error: create: failed to create: namespaces "%s" not found' % namespace)
        ns = state["namespaces"][namespace]
        for name, replicas in workloads.items():
            ns.setdefault("workloads", {}).setdefault(name, replicas)
        state["releases"]["%s/%s" % (namespace, release)] = {
            "chart": chart,
            "version": option(args, "--version"),
            "repo": option(args, "--repo"),
        }
        print("Release \"%s\" has been upgraded. Happy Helming!" % release)
    elif command == "list":
        pattern = option(args, "--filter") or ".*"
        for key in sorted(state["releases"]):
            ns, name = key.split("/", 1)
            if ns == namespace and re.search(pattern, name):
                print(name)
    elif command == "uninstall":
        key = "%s/%s" % (namespace, words[1])
        if key not in state["releases"]:
            fail("Error: uninstall: Release not loaded: %s: release: not found" % words[1])
        del state["releases"][key]
        state["namespaces"].get(namespace, {}).pop("workloads", None)
        print("release \"%s\" uninstalled" % words[1])
    else:
        fail("stub helm: unsupported command %r" % command, 2)


# ---- kubectl ----

KUBECTL_VALUED = {"--namespace", "-n", "--output", "-o", "-f", "--filename", "--raw", "--replicas", "--context"}


def kubectl(args, state, stdin):
    namespace = option(args, "--namespace", "-n")
    words = positional(args, KUBECTL_VALUED)
    command = words[0] if words else ""
    namespaces = state["namespaces"]
    if command == "apply":
        obj = json.loads(stdin)
        kind, meta = obj["kind"], obj["metadata"]
        if kind == "Namespace":
            ns = namespaces.setdefault(meta["name"], {"labels": {}, "annotations": {}, "secrets": {}})
            ns["labels"] = meta.get("labels", {})
        elif kind == "Secret":
            if meta["namespace"] not in namespaces:
                fail('Error from server (NotFound): namespaces "%s" not found' % meta["namespace"])
            namespaces[meta["namespace"]]["secrets"][meta["name"]] = obj.get("data", {})
        else:
            fail("stub kubectl: cannot apply %s" % kind, 2)
        print("%s/%s configured" % (kind.lower(), meta["name"]))
    elif command == "get" and words[1] == "namespace":
        name = words[2]
        if name not in namespaces:
            fail('Error from server (NotFound): namespaces "%s" not found' % name)
        ns = namespaces[name]
        print(json.dumps({"kind": "Namespace", "metadata": {"name": name, "labels": ns["labels"], "annotations": ns["annotations"]}}))
    elif command == "get" and words[1] == "statefulsets,deployments":
        items = []
        for key, replicas in sorted(namespaces.get(namespace, {}).get("workloads", {}).items()):
            kind, name = key.split("/")
            items.append({"kind": {"statefulset": "StatefulSet", "deployment": "Deployment"}[kind],
                          "metadata": {"name": name, "namespace": namespace}, "spec": {"replicas": replicas}})
        print(json.dumps({"kind": "List", "items": items}))
    elif command == "annotate":
        name, change = words[2], words[3]
        if name not in namespaces:
            fail('Error from server (NotFound): namespaces "%s" not found' % name)
        annotations = namespaces[name]["annotations"]
        if change.endswith("-"):
            annotations.pop(change[:-1], None)
        else:
            key, value = change.split("=", 1)
            if key in annotations and "--overwrite" not in args:
                fail("error: --overwrite is false but found the following declared annotation(s): '%s' already has a value" % key)
            annotations[key] = value
        print("namespace/%s annotated" % name)
    elif command == "scale":
        replicas = int(option(args, "--replicas"))
        workloads = namespaces.get(namespace, {}).get("workloads", {})
        if "--all" in args:
            for key in workloads:
                workloads[key] = replicas
        else:
            if words[1] not in workloads:
                fail('Error from server (NotFound): %s not found' % words[1])
            workloads[words[1]] = replicas
        print("scaled")
    elif command == "rollout":
        print("%s restarted" % words[2])
    elif command == "delete" and option(args, "--raw"):
        # DELETE <collection>/<id> removes what `create --raw <collection>` posted with that id.
        collection, _, backup_id = option(args, "--raw").rpartition("/")
        match = [r for r in state["raw"] if r["path"] == collection and str(r["body"].get("backupId")) == backup_id]
        if not match:
            fail("Error from server (NotFound): the server could not find the requested resource")
        for r in match:
            state["raw"].remove(r)
    elif command == "delete" and words[1] == "namespace":
        name = words[2]
        if name not in namespaces:
            if "--ignore-not-found" not in args:
                fail('Error from server (NotFound): namespaces "%s" not found' % name)
            return
        del namespaces[name]
        for key in [k for k in state["releases"] if k.startswith(name + "/")]:
            del state["releases"][key]
        print('namespace "%s" deleted' % name)
    elif command == "create" and option(args, "--raw"):
        body = json.loads(stdin)
        entry = {"path": option(args, "--raw"), "body": body}
        if entry in state["raw"]:
            fail("Error from server (Conflict): backup already exists")
        state["raw"].append(entry)
        print("{}")
    else:
        fail("stub kubectl: unsupported command %r" % " ".join(words), 2)


# ---- docker compose ----

DOCKER_VALUED = {"--project-name", "-p", "--file", "-f"}


def docker(args, state, files):
    if not args or args[0] != "compose":
        fail("stub docker: only `docker compose` is supported", 2)
    args = args[1:]
    project = option(args, "--project-name", "-p")
    compose_file = option(args, "--file", "-f")
    if compose_file:
        try:
            with open(compose_file) as f:
                model = json.load(f)
        except (OSError, ValueError) as err:
            fail("stub docker: cannot read %s: %s" % (compose_file, err))
        for service in model.get("services", {}).values():
            for env_file in service.get("env_file", []):
                files[env_file] = read_file(env_file)
    words = positional(args, DOCKER_VALUED)
    command = words[0] if words else ""
    projects = state["projects"]
    if command == "up":
        if not compose_file:
            fail("no configuration file provided: not found")
        projects[project] = {"file": compose_file, "running": True}
    elif command == "stop":
        if project in projects:
            projects[project]["running"] = False
    elif command == "start":
        if project not in projects:
            fail("service \"orchestration\" has no container to start")
        projects[project]["running"] = True
    elif command == "down":
        projects.pop(project, None)
    elif command == "port":
        service, port = words[1], words[2]
        if not projects.get(project, {}).get("running"):
            fail("no container found for %s" % service)
        chosen = json.loads(os.environ.get("STUB_DOCKER_PORTS", "{}")).get("%s:%s" % (service, port))
        if chosen is None:
            chosen = 40000 + zlib.crc32(("%s:%s" % (service, port)).encode()) % 20000
        print("127.0.0.1:%d" % chosen)
    else:
        fail("stub docker: unsupported command %r" % command, 2)


def main():
    tool = os.path.basename(sys.argv[0])
    args = sys.argv[1:]
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    files = {}
    for path in options(args, "--values", "-f", "--file", "--env-file"):
        if path != "-":
            files[path] = read_file(path)
    state = load()
    failing = os.environ.get("STUB_FAIL")
    try:
        if failing and " ".join([tool] + args).startswith(failing):
            fail("stub: injected failure of %s" % failing)
        if tool == "helm":
            helm(args, state)
        elif tool == "kubectl":
            kubectl(args, state, stdin)
        elif tool == "docker":
            docker(args, state, files)
        else:
            fail("stub: unknown tool %s" % tool, 2)
        code = 0
    except SystemExit as exit:
        code = exit.code
    with open(os.path.join(STUB_DIR, "calls.jsonl"), "a") as f:
        f.write(json.dumps({"tool": tool, "argv": args, "stdin": stdin, "files": files, "exit": code}) + "\n")
    if code == 0:
        save(state)
    sys.exit(code)


if __name__ == "__main__":
    main()
