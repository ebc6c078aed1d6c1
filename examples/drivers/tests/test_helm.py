"""The Helm driver against recording stand-ins for helm and kubectl."""

import base64
import json
import os
import unittest

import support
from support import SECRETS, UUID, document

NAMESPACE = "camunda-" + UUID
RELEASE = "camunda"


class HelmDriver(support.Sandbox):
    DRIVER = os.path.join("helm", "driver.py")

    def helm_upgrades(self):
        return [c for c in self.calls("helm") if c["argv"][:2] == ["upgrade", "--install"]]

    def generated_values(self, call):
        """The values file the driver generated (the last --values)."""
        path = [a for i, a in enumerate(call["argv"]) if i and call["argv"][i - 1] == "--values"][-1]
        return path, json.loads(call["files"][path]["content"])

    def test_create_installs_one_release_in_its_own_namespace(self):
        out, _ = self.drive("create")
        self.assert_endpoints_shape(out)
        gateway = "%s-zeebe-gateway.%s.svc.cluster.local" % (RELEASE, NAMESPACE)
        self.assertEqual(out["endpoints"]["zeebeGrpc"], gateway + ":26500")
        self.assertEqual(out["endpoints"]["zeebeRest"], "http://%s:8080/v2" % gateway)
        self.assertEqual(out["health"]["zeebe"], "http://%s:9600/actuator/health/readiness" % gateway)
        self.assertEqual(out["health"]["connectors"],
                         "http://%s-connectors.%s.svc.cluster.local:8080/actuator/health/readiness" % (RELEASE, NAMESPACE))

        kubectl = self.calls("kubectl")
        self.assertEqual([c["argv"] for c in kubectl], [["apply", "-f", "-"], ["apply", "-f", "-"]])
        namespace = json.loads(kubectl[0]["stdin"])
        self.assertEqual(namespace["kind"], "Namespace")
        self.assertEqual(namespace["metadata"]["name"], NAMESPACE)
        self.assertEqual(namespace["metadata"]["labels"]["consoled.camunda.io/cluster"], UUID)
        self.assertEqual(namespace["metadata"]["labels"]["consoled.camunda.io/org"], "org-1234")

        secret = json.loads(kubectl[1]["stdin"])
        self.assertEqual(secret["kind"], "Secret")
        self.assertEqual(secret["metadata"], {"name": "consoled-connector-secrets", "namespace": NAMESPACE,
                                              "labels": namespace["metadata"]["labels"]})
        decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
        self.assertEqual(decoded, SECRETS)

        [upgrade] = self.helm_upgrades()
        argv = upgrade["argv"]
        self.assertEqual(argv[:4], ["upgrade", "--install", RELEASE, "camunda-platform"])
        self.assertEqual(argv[argv.index("--repo") + 1], "https://helm.camunda.io")
        self.assertEqual(argv[argv.index("--version") + 1], "^13.0.0")
        self.assertEqual(argv[argv.index("--namespace") + 1], NAMESPACE)
        path, values = self.generated_values(upgrade)
        self.assertFalse(os.path.exists(path), "the generated values file is removed afterwards")
        self.assertEqual(upgrade["files"][path]["mode"], "0o600")

        orchestration = values["orchestration"]
        self.assertEqual(orchestration["image"]["tag"], "8.8.3")
        self.assertEqual(values["connectors"]["image"]["tag"], "8.8.2")
        auth = orchestration["security"]["authentication"]
        self.assertEqual(auth["method"], "oidc")
        self.assertFalse(auth["unprotectedApi"])
        self.assertEqual(auth["oidc"]["issuer"], "https://consoled.example.com")
        self.assertEqual(auth["oidc"]["audience"], UUID + ".zeebe.example.com")
        self.assertEqual(auth["oidc"]["clientIdClaim"], "azp")
        env = {e["name"]: e["value"] for e in orchestration["env"]}
        self.assertEqual(env, {
            "CAMUNDA_SECURITY_AUTHENTICATION_METHOD": "oidc",
            "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_ISSUERURI": "https://consoled.example.com",
            "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_AUDIENCES": UUID + ".zeebe.example.com",
            "CAMUNDA_SECURITY_AUTHENTICATION_OIDC_CLIENTIDCLAIM": "azp",
        })
        init = orchestration["security"]["initialization"]
        self.assertEqual(init["mappingRules"], [{"mappingRuleId": "consoled-cluster-clients",
                                                 "claimName": "https://camunda.com/clusterId", "claimValue": UUID}])
        self.assertEqual(init["defaultRoles"]["admin"]["mappingRules"], ["consoled-cluster-clients"])
        self.assertEqual(values["connectors"]["envFrom"], [{"secretRef": {"name": "consoled-connector-secrets"}}])

        text = upgrade["files"][path]["content"]
        for value in SECRETS.values():
            self.assertNotIn(json.dumps(value)[1:-1], text, "secret values stay out of the values file")
        self.assert_no_secret_in_argv()

    def test_create_again_is_harmless(self):
        first, _ = self.drive("create")
        second, _ = self.drive("create")
        self.assertEqual(first, second)
        self.assertEqual(len(self.helm_upgrades()), 2)
        self.assertEqual(list(self.state()["releases"]), ["%s/%s" % (NAMESPACE, RELEASE)])

    def test_own_values_come_before_the_generated_ones(self):
        mine = os.path.join(self.tmp, "mine.yaml")
        with open(mine, "w") as f:
            f.write("elasticsearch:\n  master:\n    replicaCount: 1\n")
        self.drive("create", env={"CONSOLED_HELM_VALUES": mine, "CONSOLED_HELM_REPO": "",
                                  "CONSOLED_HELM_CHART": "oci://registry.example.com/camunda-platform"})
        [upgrade] = self.helm_upgrades()
        argv = upgrade["argv"]
        self.assertNotIn("--repo", argv)
        self.assertEqual(argv[3], "oci://registry.example.com/camunda-platform")
        files = [a for i, a in enumerate(argv) if argv[i - 1] == "--values"]
        self.assertEqual(files[0], mine)
        self.assertEqual(len(files), 2)

    def test_upgrade_follows_the_generation(self):
        self.drive("create")
        self.drive("upgrade", document("upgrade", zeebe="8.9.1", connectors="8.9.0"))
        upgrade = self.helm_upgrades()[-1]
        argv = upgrade["argv"]
        self.assertEqual(argv[argv.index("--version") + 1], "^14.0.0")
        _, values = self.generated_values(upgrade)
        self.assertEqual(values["orchestration"]["image"]["tag"], "8.9.1")
        self.assertEqual(values["connectors"]["image"]["tag"], "8.9.0")
        self.drive("upgrade", document("upgrade", zeebe="8.9.1"), env={"CONSOLED_HELM_CHART_VERSION": "14.2.0"})
        argv = self.helm_upgrades()[-1]["argv"]
        self.assertEqual(argv[argv.index("--version") + 1], "14.2.0")

    def test_update_reapplies_the_secret_and_restarts_connectors(self):
        self.drive("create")
        self.clear_calls()
        doc = document("update")
        doc["cluster"]["connectorSecrets"] = {"ONLY": "new-value-91c"}
        self.drive("update", doc)
        secret = json.loads(self.calls("kubectl")[1]["stdin"])
        self.assertEqual(secret["data"], {"ONLY": base64.b64encode(b"new-value-91c").decode()})
        self.assertIn(["rollout", "restart", "deployment/%s-connectors" % RELEASE, "--namespace", NAMESPACE],
                      [c["argv"] for c in self.calls("kubectl")])
        for call in self.calls():
            self.assertNotIn("new-value-91c", " ".join(call["argv"]))

    def test_generations_before_8_8_are_refused(self):
        _, err = self.drive("create", document("create", zeebe="8.7.3"), expect=1)
        self.assertIn("8.8+", err)
        self.assertEqual(self.calls(), [])

    def test_suspend_scales_to_zero_and_wake_restores_the_replicas(self):
        self.drive("create")
        self.clear_calls()
        out, _ = self.drive("suspend")
        self.assertEqual(out, {})
        ns = self.state()["namespaces"][NAMESPACE]
        self.assertEqual(ns["workloads"], {"statefulset/camunda-zeebe": 0, "deployment/camunda-connectors": 0})
        remembered = json.loads(ns["annotations"]["consoled.camunda.io/replicas"])
        self.assertEqual(remembered, {"statefulset/camunda-zeebe": 3, "deployment/camunda-connectors": 1})
        self.assertIn(["scale", "statefulsets,deployments", "--all", "--replicas=0", "--namespace", NAMESPACE],
                      [c["argv"] for c in self.calls("kubectl")])

        # A retried suspend sees zeros and must not forget the counts.
        self.drive("suspend")
        ns = self.state()["namespaces"][NAMESPACE]
        self.assertEqual(json.loads(ns["annotations"]["consoled.camunda.io/replicas"]), remembered)

        self.clear_calls()
        out, _ = self.drive("wake")
        self.assert_endpoints_shape(out)
        ns = self.state()["namespaces"][NAMESPACE]
        self.assertEqual(ns["workloads"], remembered)
        self.assertNotIn("consoled.camunda.io/replicas", ns["annotations"])
        self.assertEqual(self.helm_upgrades(), [], "wake scales back, it does not reinstall")

        # A retried wake (the annotation already gone) reapplies the release instead.
        out_again, _ = self.drive("wake")
        self.assertEqual(out_again, out)
        self.assertEqual(len(self.helm_upgrades()), 1)

    def test_suspend_of_nothing_succeeds(self):
        out, _ = self.drive("suspend")
        self.assertEqual(out, {})
        self.assertFalse([c for c in self.calls("kubectl") if c["argv"][0] == "scale"])

    def test_delete_is_idempotent(self):
        self.drive("create")
        self.clear_calls()
        out, _ = self.drive("delete")
        self.assertEqual(out, {})
        argvs = [c["argv"] for c in self.calls()]
        self.assertIn(["uninstall", RELEASE, "--namespace", NAMESPACE], argvs)
        self.assertIn(["delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false"], argvs)
        self.assertEqual(self.state()["releases"], {})
        self.assertEqual(self.state()["namespaces"], {})

        self.clear_calls()
        out, _ = self.drive("delete")
        self.assertEqual(out, {})
        self.assertFalse([c for c in self.calls("helm") if c["argv"][0] == "uninstall"])
        self.assertTrue(all(c["exit"] == 0 for c in self.calls()))

    def test_a_failed_delete_completes_on_retry(self):
        self.drive("create")
        self.drive("delete", env={"STUB_FAIL": "helm uninstall"}, expect=1)
        out, _ = self.drive("delete")
        self.assertEqual(out, {})

    def test_backup_and_delete_backup_through_the_management_api(self):
        self.drive("create")
        self.clear_calls()
        backup = {"uuid": "b-1", "createdAt": "2026-03-01T12:00:00.250Z"}
        out, _ = self.drive("backup", document("backup", backup=backup))
        self.assertEqual(out, {})
        base = "/api/v1/namespaces/%s/services/%s-zeebe-gateway:9600/proxy/actuator/" % (NAMESPACE, RELEASE)
        calls = self.calls("kubectl")
        self.assertEqual([c["argv"] for c in calls], [
            ["create", "--raw", base + "backupHistory", "-f", "-"],
            ["create", "--raw", base + "backupRuntime", "-f", "-"],
        ])
        self.assertEqual(json.loads(calls[0]["stdin"]), {"backupId": 1772366400250})
        # A retry finds them there (409): still success.
        self.drive("backup", document("backup", backup=backup))
        self.clear_calls()
        self.drive("delete-backup", document("delete-backup", backup=backup))
        self.assertEqual([c["argv"] for c in self.calls("kubectl")], [
            ["delete", "--raw", base + "backupRuntime/1772366400250"],
            ["delete", "--raw", base + "backupHistory/1772366400250"],
        ])
        self.drive("delete-backup", document("delete-backup", backup=backup))

    def test_a_failing_tool_fails_the_step(self):
        _, err = self.drive("create", env={"STUB_FAIL": "helm upgrade"}, expect=1)
        self.assertIn("injected failure", err)
        self.assertIn("helm upgrade failed", err)

    def test_bad_input_is_refused(self):
        self.drive("frobnicate", expect=2)
        self.drive("create", document("update"), expect=1)
        self.drive("create", "{not json", expect=1)
        doc = document("create")
        doc["cluster"]["uuid"] = "../../etc"
        _, err = self.drive("create", doc, expect=1)
        self.assertIn("cannot name a namespace", err)
        doc = document("create")
        doc["cluster"]["connectorSecrets"] = {"BAD NAME": "hidden-value-123"}
        _, err = self.drive("create", doc, expect=1)
        self.assertIn("BAD NAME", err)
        self.assertNotIn("hidden-value-123", err)
        self.assertFalse(self.helm_upgrades())


if __name__ == "__main__":
    unittest.main()
