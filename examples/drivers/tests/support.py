"""Shared by the example drivers' tests: a sandbox with stand-in tools on PATH, stdin
documents as consoled sends them, and the recorded calls."""

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVERS = os.path.dirname(HERE)
STUB = os.path.join(HERE, "stub.py")

UUID = "c0ffee00-1234-4abc-8def-0123456789ab"
SECRETS = {
    "SLACK_TOKEN": "xoxb-not-a-real-token-7f3a9",
    "DB_PASSWORD": "pa$$word with spaces & \"quotes\" \\ #hash",
    "MULTILINE": "line one\nline two",
}


def document(action, zeebe="8.8.3", connectors="8.8.2", **extra):
    doc = {
        "version": 1,
        "action": action,
        "operationId": "6f1c2d3e-0000-4000-8000-00000000abcd",
        "cluster": {
            "uuid": UUID,
            "name": "demo",
            "orgId": "org-1234",
            "planType": {"uuid": "p", "name": "Trial"},
            "channel": {"uuid": "ch", "name": "Stable"},
            "generation": {
                "uuid": "g",
                "name": "Camunda %s" % zeebe,
                "versions": {"zeebe": zeebe, "operate": zeebe, "tasklist": zeebe, "optimize": zeebe,
                             "connectors": connectors},
            },
            "region": {"uuid": "r", "name": "Belgium, Europe (europe-west1)", "short": "bru-2"},
            "stageLabel": "dev",
            "ipAllowlist": [{"ip": "10.0.0.0/8", "description": "office"}],
            "connectorSecrets": copy.deepcopy(SECRETS),
        },
        "auth": {
            "issuer": "https://consoled.example.com",
            "jwksUri": "https://consoled.example.com/.well-known/jwks.json",
            "audience": "%s.zeebe.example.com" % UUID,
            "clientIdClaim": "azp",
            "clusterIdClaim": "https://camunda.com/clusterId",
        },
    }
    doc.update(extra)
    return doc


class Sandbox(unittest.TestCase):
    """Each test gets fresh stand-ins and an empty record. (Import the module, not this name,
    so that unittest does not collect the base class itself.)"""

    DRIVER = None  # path of the driver under test, relative to examples/drivers

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="consoled-driver-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bin = os.path.join(self.tmp, "bin")
        self.record = os.path.join(self.tmp, "record")
        os.makedirs(self.bin)
        os.makedirs(self.record)
        for tool in ("helm", "kubectl", "docker"):
            os.symlink(STUB, os.path.join(self.bin, tool))
        self.env = {
            "PATH": self.bin + os.pathsep + os.environ.get("PATH", ""),
            "STUB_DIR": self.record,
            "HOME": self.tmp,
        }

    def test_the_driver_is_an_executable_file(self):
        # consoled runs it directly (--driver-command), not through python3.
        path = os.path.join(DRIVERS, self.DRIVER)
        self.assertTrue(os.access(path, os.X_OK), path)
        with open(path) as f:
            self.assertEqual(f.readline(), "#!/usr/bin/env python3\n")

    def drive(self, action, doc=None, env=None, expect=0):
        """Run the driver; returns (parsed stdout or None, stderr)."""
        doc = document(action) if doc is None else doc
        proc = subprocess.run(
            [sys.executable, os.path.join(DRIVERS, self.DRIVER), action],
            input=(doc if isinstance(doc, str) else json.dumps(doc)).encode(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(self.env, **(env or {})),
            timeout=60,
        )
        out, err = proc.stdout.decode(), proc.stderr.decode()
        self.assertEqual(proc.returncode, expect, "exit %d\nstdout: %s\nstderr: %s" % (proc.returncode, out, err))
        parsed = json.loads(out) if proc.returncode == 0 else None
        if proc.returncode == 0:
            self.assertEqual(out.count("\n"), 1, "exactly one JSON document on stdout")
        return parsed, err

    def calls(self, tool=None):
        try:
            with open(os.path.join(self.record, "calls.jsonl")) as f:
                calls = [json.loads(line) for line in f]
        except FileNotFoundError:
            return []
        return [c for c in calls if tool is None or c["tool"] == tool]

    def state(self):
        with open(os.path.join(self.record, "state.json")) as f:
            return json.load(f)

    def clear_calls(self):
        try:
            os.remove(os.path.join(self.record, "calls.jsonl"))
        except FileNotFoundError:
            pass

    def assert_no_secret_in_argv(self):
        for call in self.calls():
            joined = "\0".join(call["argv"])
            for name, value in SECRETS.items():
                for piece in value.split("\n"):
                    self.assertNotIn(piece, joined, "secret %s in the argv of %s %s" % (name, call["tool"], call["argv"]))

    def assert_endpoints_shape(self, out):
        self.assertEqual(set(out), {"endpoints", "health"})
        self.assertLessEqual(set(out["endpoints"]), {"zeebeGrpc", "zeebeRest", "operate", "tasklist", "optimize", "connectors"})
        self.assertLessEqual(set(out["health"]), {"zeebe", "operate", "tasklist", "optimize", "connectors"})
        self.assertIn("zeebe", out["health"])
        self.assertIn("zeebeGrpc", out["endpoints"])
        self.assertNotRegex(out["endpoints"]["zeebeGrpc"], r"^[a-z]+://", "zeebeGrpc is host:port")
        self.assertRegex(out["endpoints"]["zeebeGrpc"], r":\d+$")
        for name, url in list(out["endpoints"].items()) + list(out["health"].items()):
            if name != "zeebeGrpc":
                self.assertRegex(url, r"^https?://[^/]+", name)
