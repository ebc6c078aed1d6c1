"""The Docker Compose driver against a recording stand-in for docker."""

import http.server
import json
import os
import stat
import threading
import unittest

import support
from support import SECRETS, UUID, document

PROJECT = "consoled-" + UUID


class ManagementApi(http.server.BaseHTTPRequestHandler):
    """Stands in for the orchestration cluster's management port: records requests; a backup
    posted twice is a 409, deleting an unknown one a 404."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = (self.path, body["backupId"])
        self.server.requests.append(("POST", self.path, body))
        status = 409 if key in self.server.backups else 202
        self.server.backups.add(key)
        self.reply(status)

    def do_DELETE(self):
        self.server.requests.append(("DELETE", self.path, None))
        collection, _, backup_id = self.path.rpartition("/")
        key = (collection, int(backup_id))
        status = 204 if key in self.server.backups else 404
        self.server.backups.discard(key)
        self.reply(status)

    def reply(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class ComposeDriver(support.Sandbox):
    DRIVER = os.path.join("compose", "driver.py")

    def setUp(self):
        super().setUp()
        self.state_dir = os.path.join(self.tmp, "compose-state")
        self.env["CONSOLED_COMPOSE_DIR"] = self.state_dir
        self.cluster_dir = os.path.join(self.state_dir, UUID)

    def compose_calls(self, command=None):
        calls = [c for c in self.calls("docker") if c["argv"][0] == "compose"]
        if command is None:
            return calls
        return [c for c in calls if command in c["argv"]]

    def model(self):
        with open(os.path.join(self.cluster_dir, "compose.yaml")) as f:
            return json.load(f)

    def test_create_starts_one_project_with_the_generation_and_oidc(self):
        out, _ = self.drive("create")
        self.assert_endpoints_shape(out)
        self.assertRegex(out["endpoints"]["zeebeGrpc"], r"^127\.0\.0\.1:\d+$")
        self.assertRegex(out["endpoints"]["zeebeRest"], r"^http://127\.0\.0\.1:\d+/v2$")
        self.assertRegex(out["health"]["zeebe"], r"^http://127\.0\.0\.1:\d+/actuator/health/readiness$")
        self.assertNotEqual(out["health"]["zeebe"], out["health"]["connectors"])

        compose_file = os.path.join(self.cluster_dir, "compose.yaml")
        env_file = os.path.join(self.cluster_dir, "connectors.env")
        [up] = self.compose_calls("up")
        self.assertEqual(up["argv"], ["compose", "--project-name", PROJECT, "--file", compose_file,
                                      "up", "--detach", "--remove-orphans"])
        self.assertEqual(stat.S_IMODE(os.stat(self.cluster_dir).st_mode), 0o700)
        self.assertEqual(up["files"][env_file]["mode"], "0o600")
        self.assertEqual(up["files"][compose_file]["mode"], "0o600")

        model = json.loads(up["files"][compose_file]["content"])
        self.assertEqual(model["name"], PROJECT)
        services = model["services"]
        self.assertEqual(services["orchestration"]["image"], "camunda/camunda:8.8.3")
        self.assertEqual(services["connectors"]["image"], "camunda/connectors-bundle:8.8.2")
        env = services["orchestration"]["environment"]
        self.assertEqual(env["CAMUNDA_SECURITY_AUTHENTICATION_METHOD"], "oidc")
        self.assertEqual(env["CAMUNDA_SECURITY_AUTHENTICATION_OIDC_ISSUERURI"], "https://consoled.example.com")
        self.assertEqual(env["CAMUNDA_SECURITY_AUTHENTICATION_OIDC_AUDIENCES"], UUID + ".zeebe.example.com")
        self.assertEqual(env["CAMUNDA_SECURITY_AUTHENTICATION_OIDC_CLIENTIDCLAIM"], "azp")
        self.assertEqual(env["CAMUNDA_SECURITY_AUTHENTICATION_UNPROTECTEDAPI"], "false")
        init = json.loads(env["SPRING_APPLICATION_JSON"])["camunda"]["security"]["initialization"]
        self.assertEqual(init["mapping-rules"], [{"mapping-rule-id": "consoled-cluster-clients",
                                                  "claim-name": "https://camunda.com/clusterId", "claim-value": UUID}])
        self.assertEqual(init["default-roles"], {"admin": {"mappingRules": ["consoled-cluster-clients"]}})
        for service in services.values():
            for port in service.get("ports", []):
                self.assertTrue(port.startswith("127.0.0.1::"), port)
        self.assertEqual(services["connectors"]["env_file"], [env_file])

        # The secrets: in the env file, literally, and nowhere else.
        lines = up["files"][env_file]["content"]
        for name, value in SECRETS.items():
            self.assertIn("%s='%s'" % (name, value), lines)
        text = up["files"][compose_file]["content"]
        for value in SECRETS.values():
            for piece in value.split("\n"):
                self.assertNotIn(piece, text)
        self.assert_no_secret_in_argv()

    def test_create_again_is_harmless(self):
        first, _ = self.drive("create")
        second, _ = self.drive("create")
        self.assertEqual(first, second)
        self.assertEqual(list(self.state()["projects"]), [PROJECT])

    def test_dollar_signs_reach_compose_escaped(self):
        doc = document("create")
        doc["auth"]["issuer"] = "https://consoled.example.com/$weird"
        self.drive("create", doc)
        env = self.model()["services"]["orchestration"]["environment"]
        self.assertEqual(env["CAMUNDA_SECURITY_AUTHENTICATION_OIDC_ISSUERURI"], "https://consoled.example.com/$$weird")

    def test_a_secret_that_cannot_be_written_is_refused_without_its_value(self):
        doc = document("create")
        doc["cluster"]["connectorSecrets"] = {"QUOTED": "it's-secret-4821"}
        _, err = self.drive("create", doc, expect=1)
        self.assertIn("QUOTED", err)
        self.assertNotIn("it's-secret-4821", err)
        self.assertFalse(self.compose_calls())

    def test_upgrade_moves_the_images(self):
        self.drive("create")
        self.drive("upgrade", document("upgrade", zeebe="8.9.1", connectors="8.9.0"))
        self.assertEqual(len(self.compose_calls("up")), 2)
        services = self.model()["services"]
        self.assertEqual(services["orchestration"]["image"], "camunda/camunda:8.9.1")
        self.assertEqual(services["connectors"]["image"], "camunda/connectors-bundle:8.9.0")

    def test_update_rewrites_the_env_file(self):
        self.drive("create")
        doc = document("update")
        doc["cluster"]["connectorSecrets"] = {"ONLY": "new-value-91c"}
        self.drive("update", doc)
        with open(os.path.join(self.cluster_dir, "connectors.env")) as f:
            text = f.read()
        self.assertIn("ONLY='new-value-91c'", text)
        self.assertNotIn("SLACK_TOKEN", text)

    def test_generations_before_8_8_are_refused(self):
        _, err = self.drive("create", document("create", zeebe="8.7.3"), expect=1)
        self.assertIn("8.8+", err)
        self.assertFalse(os.path.exists(self.cluster_dir))

    def test_suspend_stops_and_wake_starts(self):
        created, _ = self.drive("create")
        self.clear_calls()
        out, _ = self.drive("suspend")
        self.assertEqual(out, {})
        self.assertEqual([c["argv"][5:] for c in self.compose_calls()], [["stop"]])
        self.assertFalse(self.state()["projects"][PROJECT]["running"])
        self.drive("suspend")
        self.clear_calls()
        out, _ = self.drive("wake")
        self.assertEqual(out, created)
        self.assertEqual(self.compose_calls("up"), [])
        self.assertEqual(len(self.compose_calls("start")), 1)
        self.assertTrue(self.state()["projects"][PROJECT]["running"])

    def test_suspend_of_nothing_succeeds(self):
        out, _ = self.drive("suspend")
        self.assertEqual(out, {})
        self.assertEqual(self.calls(), [])

    def test_delete_is_idempotent(self):
        self.drive("create")
        self.clear_calls()
        out, _ = self.drive("delete")
        self.assertEqual(out, {})
        [down] = self.compose_calls("down")
        self.assertEqual(down["argv"], ["compose", "--project-name", PROJECT, "--file",
                                        os.path.join(self.cluster_dir, "compose.yaml"),
                                        "down", "--volumes", "--remove-orphans"])
        self.assertFalse(os.path.exists(self.cluster_dir))
        self.assertEqual(self.state()["projects"], {})
        self.clear_calls()
        out, _ = self.drive("delete")
        self.assertEqual(out, {})
        [down] = self.compose_calls("down")
        self.assertEqual(down["argv"], ["compose", "--project-name", PROJECT, "down", "--volumes", "--remove-orphans"])

    def test_backup_and_delete_backup_through_the_management_port(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ManagementApi)
        server.requests, server.backups = [], set()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.env["STUB_DOCKER_PORTS"] = json.dumps({"orchestration:9600": server.server_address[1]})

        self.drive("create")
        backup = {"uuid": "b-1", "createdAt": "2026-03-01T12:00:00Z"}
        out, _ = self.drive("backup", document("backup", backup=backup))
        self.assertEqual(out, {})
        self.drive("backup", document("backup", backup=backup))  # a retry: 409s, still success
        self.assertEqual(server.requests[:2], [
            ("POST", "/actuator/backupHistory", {"backupId": 1772366400000}),
            ("POST", "/actuator/backupRuntime", {"backupId": 1772366400000}),
        ])
        del server.requests[:]
        out, _ = self.drive("delete-backup", document("delete-backup", backup=backup))
        self.assertEqual(out, {})
        self.drive("delete-backup", document("delete-backup", backup=backup))  # 404s: fine
        self.assertEqual(server.requests[:2], [
            ("DELETE", "/actuator/backupRuntime/1772366400000", None),
            ("DELETE", "/actuator/backupHistory/1772366400000", None),
        ])

    def test_a_failing_tool_fails_the_step(self):
        _, err = self.drive("create", env={"STUB_FAIL": "docker compose --project-name %s --file" % PROJECT}, expect=1)
        self.assertIn("injected failure", err)

    def test_bad_input_is_refused(self):
        self.drive("frobnicate", expect=2)
        self.drive("create", document("delete"), expect=1)
        doc = document("create")
        doc["cluster"]["uuid"] = "../x"
        _, err = self.drive("create", doc, expect=1)
        self.assertIn("cannot name a project", err)


if __name__ == "__main__":
    unittest.main()
