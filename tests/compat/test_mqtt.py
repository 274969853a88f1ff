"""The MQTT broker (issue 8) with real clients: mosquitto_pub and mosquitto_sub over mutual TLS,
MQTT 5 (`-V mqttv5`) and 3.1.1 (`-V mqttv311`), with device certificates from
CreateKeysAndCertificate (boto3) and policies attached through the control plane.

One private server with the broker on a free port (the shared server runs without MQTT). Needs the
Debian package mosquitto-clients (`.ci/run` installs it); without it these tests fail.

AWS behaviour asserted here, and its source:
- A certificate that is unknown or not ACTIVE fails the TLS handshake (no CONNACK); CONNECT whose
  policies do not allow iot:Connect on client/<clientId>: CONNACK "Not authorized" (MQTT 5 reason
  code 0x87 = 135, MQTT 3.1.1 return code 5). AWS IoT Core MQTT 5 reason-code table (0x87 for
  CONNACK, PUBLISH, SUBACK).
- A certificate that does not chain to a registered CA fails the TLS handshake.
- A denied PUBLISH: MQTT 5 PUBACK 0x87; MQTT 3.1.1 the connection is closed. A denied SUBSCRIBE:
  SUBACK 0x87 (MQTT 5) / 0x80 failure (3.1.1).
- Thing policy variables resolve from the thing attached to the certificate whose name is the client
  id (docs: thing-policy-variables).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import unittest
import urllib.request

from compat_base import CompatTestCase
import fleetkey_server as fk

VERSIONS = ("mqttv5", "mqttv311")
NOT_AUTHORIZED_V5 = 135


class Subscriber:
    """A mosquitto_sub child whose output is read on a thread, so a test can wait for SUBACK and messages."""

    def __init__(self, args: list[str]):
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.exited_at: float | None = None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))
        self.proc.wait()
        self.exited_at = time.monotonic()

    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if self.exited_at is not None and text not in self.output():
                return False
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._reader.join(timeout=5)


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server process with the broker")
class MqttBrokerTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        missing = [tool for tool in ("mosquitto_pub", "mosquitto_sub") if shutil.which(tool) is None]
        if missing:
            raise AssertionError(f"{', '.join(missing)} not found: install the Debian package mosquitto-clients (.ci/run does)")
        cls.server, cls.iot, cls.tmp, cls.ca = fk.start_mqtt_server("mqtt")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self._subscribers: list[Subscriber] = []
        self.addCleanup(self._stop_subscribers)

    def _stop_subscribers(self) -> None:
        for s in self._subscribers:
            s.stop()

    # ------------------------------------------------------------------ fixtures

    def policy(self, statements: list[dict]) -> str:
        name = self.name(f"p{len(statements)}-{time.monotonic_ns() % 100000}")
        self.iot.create_policy(policyName=name, policyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        return name

    def device(self, thing: str | None, policy: str | None, active: bool = True) -> dict:
        """A key and certificate from CreateKeysAndCertificate, attached to a new thing and a policy."""
        created = self.iot.create_keys_and_certificate(setAsActive=active)
        cert_id = created["certificateId"]
        certfile = os.path.join(self.tmp, cert_id + ".crt")
        keyfile = os.path.join(self.tmp, cert_id + ".key")
        with open(certfile, "w") as f:
            f.write(created["certificatePem"])
        with open(keyfile, "w") as f:
            f.write(created["keyPair"]["PrivateKey"])
        os.chmod(keyfile, 0o600)
        if thing is not None:
            self.iot.create_thing(thingName=thing)
            self.iot.attach_thing_principal(thingName=thing, principal=created["certificateArn"])
        if policy is not None:
            self.iot.attach_policy(policyName=policy, target=created["certificateArn"])
        return {"id": cert_id, "arn": created["certificateArn"], "cert": certfile, "key": keyfile, "thing": thing}

    def tls(self, device: dict) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.server.mqtt_port), "--cafile", self.ca,
                "--cert", device["cert"], "--key", device["key"]]

    def pub(self, device: dict, client_id: str, topic: str, version: str, message: str = "hello", qos: int = 1):
        return subprocess.run(
            ["mosquitto_pub", *self.tls(device), "-i", client_id, "-t", topic, "-m", message,
             "-q", str(qos), "-V", version, "-d"],
            capture_output=True, text=True, timeout=30)

    def sub(self, device: dict, client_id: str, topic: str, version: str, count: int = 1, wait: int = 15) -> Subscriber:
        # stdbuf: mosquitto_sub's stdout is a pipe here, which libc would buffer by the block.
        s = Subscriber(["stdbuf", "-oL", "mosquitto_sub", *self.tls(device), "-i", client_id, "-t", topic, "-V", version,
                        "-q", "1", "-v", "-d", "-C", str(count), "-W", str(wait)])
        self._subscribers.append(s)
        return s

    def topic_policy(self, prefix: str) -> str:
        """Connect as the attached thing; publish, receive and subscribe under prefix/."""
        return self.policy([
            {"Effect": "Allow", "Action": "iot:Connect",
             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:client/${{iot:Connection.Thing.ThingName}}"},
            {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/{prefix}/*"},
            {"Effect": "Allow", "Action": "iot:Subscribe",
             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topicfilter/{prefix}/*"},
        ])

    def assertRefused(self, result: subprocess.CompletedProcess, version: str, what: str) -> None:
        out = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, f"{what}: mosquitto_pub succeeded\n{out}")
        self.assertNotIn("received CONNACK (0)", out, f"{what}: connection accepted\n{out}")
        if version == "mqttv5":
            self.assertIn(f"received CONNACK ({NOT_AUTHORIZED_V5})", out, f"{what}\n{out}")
        else:
            self.assertIn("received CONNACK (5)", out, f"{what}\n{out}")

    # ------------------------------------------------------------------ tests

    def test_active_certificate_publishes_and_subscriber_receives(self):
        for version in VERSIONS:
            with self.subTest(version=version):
                prefix = self.name(version)
                policy = self.topic_policy(prefix)
                publisher = self.device(self.name(f"{version}-pub"), policy)
                subscriber = self.device(self.name(f"{version}-sub"), policy)
                s = self.sub(subscriber, subscriber["thing"], f"{prefix}/#", version)
                self.assertTrue(s.wait_for("received SUBACK"), s.output())
                r = self.pub(publisher, publisher["thing"], f"{prefix}/telemetry", version, message="21.5")
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("received CONNACK (0)", r.stdout)
                self.assertTrue(s.wait_for(f"{prefix}/telemetry 21.5"), s.output())

    def test_denied_topic_is_refused_and_not_delivered(self):
        for version in VERSIONS:
            with self.subTest(version=version):
                prefix = self.name(version)
                policy = self.topic_policy(prefix)
                publisher = self.device(self.name(f"{version}-pub"), policy)
                # The subscriber may subscribe to everything and receive everything.
                everything = self.policy([{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}])
                watcher = self.device(self.name(f"{version}-watch"), everything)
                s = self.sub(watcher, watcher["thing"], "#", version, count=1, wait=6)
                self.assertTrue(s.wait_for("received SUBACK"), s.output())

                denied_topic = self.name(f"{version}-other") + "/x"
                r = self.pub(publisher, publisher["thing"], denied_topic, version, message="secret")
                out = r.stdout + r.stderr
                if version == "mqttv5":
                    self.assertIn(f"received PUBACK (Mid: 1, RC:{NOT_AUTHORIZED_V5})", out)
                else:
                    # MQTT 3.1.1 has no negative PUBACK: the broker closes the connection.
                    self.assertNotIn("received PUBACK", out)
                    self.assertNotEqual(r.returncode, 0, out)
                time.sleep(1.0)
                self.assertNotIn("secret", s.output())

                # A denied subscription: the SUBACK's reason code, as mosquitto_sub -d prints it before
                # anything else it does about the denial (its "All subscription requests were denied"
                # goes to stderr after it has queued its DISCONNECT, and was seen missing once in CI).
                s2 = self.sub(publisher, publisher["thing"], denied_topic, version, wait=5)
                code = NOT_AUTHORIZED_V5 if version == "mqttv5" else 0x80
                self.assertTrue(s2.wait_for(f"Subscribed (mid: 1): {code}"), f"{s2.output()}\n{self.server.log_tail()}")

    def test_thing_name_policy_variable_allows_only_the_devices_own_topics(self):
        policy = self.policy([
            {"Effect": "Allow", "Action": "iot:Connect",
             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:client/${{iot:Connection.Thing.ThingName}}"},
            {"Effect": "Allow", "Action": "iot:Publish",
             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/things/${{iot:Connection.Thing.ThingName}}/*"},
        ])
        mine = self.device(self.name("mine"), policy)
        other = self.name("other")
        for version in VERSIONS:
            with self.subTest(version=version):
                ok = self.pub(mine, mine["thing"], f"things/{mine['thing']}/state", version)
                self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
                self.assertIn("received CONNACK (0)", ok.stdout)
                denied = self.pub(mine, mine["thing"], f"things/{other}/state", version)
                if version == "mqttv5":
                    self.assertIn(f"RC:{NOT_AUTHORIZED_V5}", denied.stdout)
                else:
                    self.assertNotIn("received PUBACK", denied.stdout)
                # Another client id is not the thing's name: iot:Connect is not allowed.
                self.assertRefused(self.pub(mine, other, f"things/{other}/state", version), version, "foreign client id")

    def test_inactive_revoked_unknown_and_self_signed_certificates_are_refused(self):
        everything = self.policy([{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}])
        inactive = self.device(self.name("inactive"), everything, active=False)
        revoked = self.device(self.name("revoked"), everything)
        self.iot.update_certificate(certificateId=revoked["id"], newStatus="REVOKED")
        # Issued by Fleetkey's CA, then deleted: the chain is good, the certificate unknown.
        unknown = self.device(None, None)
        self.iot.update_certificate(certificateId=unknown["id"], newStatus="INACTIVE")
        self.iot.delete_certificate(certificateId=unknown["id"])
        # Refused in the TLS handshake, before a byte of MQTT is read: no CONNACK at all (AWS IoT Core
        # likewise fails the handshake of a certificate that is not ACTIVE).
        for version in VERSIONS:
            for label, device in (("inactive", inactive), ("revoked", revoked), ("unknown", unknown)):
                with self.subTest(version=version, certificate=label):
                    client_id = device["thing"] or self.name("unknown")
                    r = self.pub(device, client_id, "any/topic", version)
                    self.assertNotEqual(r.returncode, 0, f"{label}: mosquitto_pub succeeded\n{r.stdout}{r.stderr}")
                    self.assertNotIn("received CONNACK", r.stdout, f"{label}: the CONNECT was read\n{r.stdout}")

        selfsigned = {"cert": os.path.join(self.tmp, "self.crt"), "key": os.path.join(self.tmp, "self.key")}
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", selfsigned["key"], "-out", selfsigned["cert"], "-days", "1", "-subj", "/CN=selfsigned"],
                       check=True, capture_output=True)
        for version in VERSIONS:
            with self.subTest(version=version, certificate="self-signed"):
                r = self.pub(selfsigned, "selfsigned", "any/topic", version)
                self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertNotIn("received CONNACK", r.stdout)

    def test_connected_device_is_disconnected_within_two_seconds_of_update_certificate_inactive(self):
        for version in VERSIONS:
            with self.subTest(version=version):
                prefix = self.name(version)
                device = self.device(self.name(f"{version}-dev"), self.topic_policy(prefix))
                s = self.sub(device, device["thing"], f"{prefix}/#", version, wait=30)
                self.assertTrue(s.wait_for("received SUBACK"), s.output())
                self.iot.update_certificate(certificateId=device["id"], newStatus="INACTIVE")
                changed = time.monotonic()
                deadline = changed + 10
                while s.exited_at is None and time.monotonic() < deadline:
                    time.sleep(0.02)
                self.assertIsNotNone(s.exited_at, f"still connected 10 s after UpdateCertificate INACTIVE\n{s.output()}")
                self.assertLessEqual(s.exited_at - changed, 2.0, s.output())
                # Reconnecting is refused too, in the TLS handshake.
                r = self.pub(device, device["thing"], f"{prefix}/x", version)
                self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertNotIn("received CONNACK", r.stdout, r.stdout)

    def test_policy_change_removing_connect_disconnects_within_two_seconds(self):
        prefix = self.name("c")
        name = self.topic_policy(prefix)
        device = self.device(self.name("dev"), name)
        s = self.sub(device, device["thing"], f"{prefix}/#", "mqttv5", wait=30)
        self.assertTrue(s.wait_for("received SUBACK"), s.output())
        self.iot.create_policy_version(policyName=name, setAsDefault=True, policyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "*"}]}))
        changed = time.monotonic()
        while s.exited_at is None and time.monotonic() < changed + 10:
            time.sleep(0.02)
        self.assertIsNotNone(s.exited_at, f"still connected 10 s after iot:Connect was removed\n{s.output()}")
        self.assertLessEqual(s.exited_at - changed, 2.0, s.output())

    def test_policy_version_change_takes_effect_for_new_operations(self):
        prefix = self.name("v")
        name = self.topic_policy(prefix)
        device = self.device(self.name("dev"), name)
        r = self.pub(device, device["thing"], f"{prefix}/a", "mqttv5")
        # 0 Success, or 16 No matching subscribers: both accept the message.
        self.assertRegex(r.stdout, r"received PUBACK \(Mid: 1, RC:(0|16)\)")
        # Version 2 allows connecting and nothing else.
        self.iot.create_policy_version(policyName=name, setAsDefault=True, policyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}))
        r = self.pub(device, device["thing"], f"{prefix}/a", "mqttv5")
        self.assertIn("received CONNACK (0)", r.stdout)
        self.assertIn(f"RC:{NOT_AUTHORIZED_V5}", r.stdout)

    def test_presence_events_reach_an_allowed_subscriber(self):
        watcher_policy = self.policy([
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
            {"Effect": "Allow", "Action": "iot:Subscribe",
             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topicfilter/$aws/events/presence/*"},
            {"Effect": "Allow", "Action": "iot:Receive",
             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/$aws/events/presence/*"},
        ])
        watcher = self.device(self.name("watch"), watcher_policy)
        prefix = self.name("d")
        device = self.device(self.name("dev"), self.topic_policy(prefix))
        s = self.sub(watcher, watcher["thing"], f"$aws/events/presence/+/{device['thing']}", "mqttv5", count=2)
        self.assertTrue(s.wait_for("received SUBACK"), s.output())
        r = self.pub(device, device["thing"], f"{prefix}/x", "mqttv5")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(s.wait_for(f"$aws/events/presence/disconnected/{device['thing']} "), s.output())
        events = {}
        for line in s.output().splitlines():
            if line.startswith("$aws/events/presence/"):
                topic, payload = line.split(" ", 1)
                events[topic.split("/")[3]] = json.loads(payload)
        connected, disconnected = events["connected"], events["disconnected"]
        self.assertEqual(connected["clientId"], device["thing"])
        self.assertEqual(connected["eventType"], "connected")
        self.assertEqual(connected["principalIdentifier"], device["id"])
        self.assertEqual(disconnected["eventType"], "disconnected")
        self.assertEqual(disconnected["sessionIdentifier"], connected["sessionIdentifier"])
        self.assertTrue(disconnected["clientInitiatedDisconnect"])
        self.assertEqual(disconnected["disconnectReason"], "CLIENT_INITIATED_DISCONNECT")
        self.assertIsInstance(connected["timestamp"], int)

    def test_sigterm_with_connected_devices_exits_zero_without_errors(self):
        server = fk.FleetkeyServer(log_name="mqtt-stop", mqtt=True, extra_args=["--device-key-algorithm", "ec-p256"])
        server.start()
        self.addCleanup(server.cleanup)
        iot = fk.make_client(server)
        created = iot.create_keys_and_certificate(setAsActive=True)
        iot.create_policy(policyName="all", policyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
        iot.attach_policy(policyName="all", target=created["certificateArn"])
        device = {"cert": os.path.join(self.tmp, "stop.crt"), "key": os.path.join(self.tmp, "stop.key")}
        with open(device["cert"], "w") as f:
            f.write(created["certificatePem"])
        with open(device["key"], "w") as f:
            f.write(created["keyPair"]["PrivateKey"])
        with urllib.request.urlopen(server.endpoint + "/ca.pem", timeout=10) as r:
            ca = os.path.join(self.tmp, "stop-ca.pem")
            with open(ca, "wb") as f:
                f.write(r.read())
        subscribers = []
        for version in VERSIONS:
            s = Subscriber(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(server.mqtt_port), "--cafile", ca,
                            "--cert", device["cert"], "--key", device["key"], "-i", f"stop-{version}", "-t", "x/#",
                            "-V", version, "-d", "-W", "30"])
            self._subscribers.append(s)
            subscribers.append(s)
        for s in subscribers:
            self.assertTrue(s.wait_for("received SUBACK"), s.output())
        rc = server.stop()
        self.assertEqual(rc, 0, server.log_tail())
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            errors = [line for line in f if " fail: " in line or " crit: " in line]
        self.assertEqual(errors, [], "".join(errors))

    def test_test_authorization_agrees_with_the_broker(self):
        # TestAuthorization (POST /test-authorization, botocore model) runs the broker's evaluator:
        # what it calls ALLOWED the broker lets through, what it calls a deny the broker refuses.
        prefix = self.name("ta")
        allow = self.topic_policy(prefix)
        deny = self.policy([{"Effect": "Deny", "Action": "iot:Publish",
                             "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/{prefix}/secret"}])
        device = self.device(self.name("ta-dev"), allow)
        self.iot.attach_policy(policyName=deny, target=device["arn"])
        topic_arn = lambda t: f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/{t}"
        cases = [
            (f"{prefix}/open", "ALLOWED"),
            (f"{prefix}/secret", "EXPLICIT_DENY"),
            (self.name("elsewhere") + "/x", "IMPLICIT_DENY"),
        ]
        answer = self.iot.test_authorization(
            principal=device["arn"], clientId=device["thing"],
            authInfos=[{"actionType": "PUBLISH", "resources": [topic_arn(t)]} for t, _ in cases])
        results = answer["authResults"]
        self.assertEqual([r["authDecision"] for r in results], [d for _, d in cases])
        self.assertEqual([p["policyName"] for p in results[0]["allowed"]["policies"]], [allow])
        self.assertEqual([p["policyName"] for p in results[1]["denied"]["explicitDeny"]["policies"]], [deny])
        self.assertEqual(results[0]["authInfo"]["resources"], [topic_arn(cases[0][0])])
        for (topic, decision) in cases:
            with self.subTest(topic=topic):
                r = self.pub(device, device["thing"], topic, "mqttv5")
                if decision == "ALLOWED":
                    self.assertRegex(r.stdout, r"received PUBACK \(Mid: 1, RC:(0|16)\)")
                else:
                    self.assertIn(f"RC:{NOT_AUTHORIZED_V5}", r.stdout)

        # policyNamesToSkip drops the Deny; policyNamesToAdd can add it back.
        skipped = self.iot.test_authorization(principal=device["arn"], clientId=device["thing"], policyNamesToSkip=[deny],
                                              authInfos=[{"actionType": "PUBLISH", "resources": [topic_arn(f"{prefix}/secret")]}])
        self.assertEqual(skipped["authResults"][0]["authDecision"], "ALLOWED")
        # Connect is allowed only as the thing's own client id.
        other = self.iot.test_authorization(principal=device["arn"], clientId="someone-else", authInfos=[
            {"actionType": "CONNECT", "resources": [f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:client/someone-else"]}])
        self.assertEqual(other["authResults"][0]["authDecision"], "IMPLICIT_DENY")
        self.assertClientError(self.iot.test_authorization, "ResourceNotFoundException", 404,
                               principal=fk.arn("cert", "0" * 64),
                               authInfos=[{"actionType": "CONNECT", "resources": ["*"]}])


if __name__ == "__main__":
    unittest.main()
