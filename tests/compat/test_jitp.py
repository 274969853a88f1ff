"""Just-in-time registration (JITR) and provisioning (JITP) (issue 9) with real clients: a CA and
device certificates made with the openssl CLI, the CA registered through boto3 with a verification
certificate, devices connecting with mosquitto_pub (their certificate with the CA in its chain, or
alone), a subscriber (mosquitto_sub with a Fleetkey-issued certificate) watching the registration events.

AWS behaviour asserted here, and its source:
- JITR: a certificate signed by a registered ACTIVE CA with auto-registration enabled is registered
  PENDING_ACTIVATION at its first connection, an event {certificateId, caCertificateId, timestamp,
  certificateStatus, awsAccountId, certificateRegistrationTimestamp} is published on
  $aws/events/certificates/registered/<caCertificateId> (also when a PENDING_ACTIVATION certificate
  connects again), and the connection is refused (docs auto-register-device-cert; AWS IoT blog
  "Just-in-Time Registration of Device Certificates on AWS IoT").
- JITP: the CA's registrationConfig template is applied with parameters from the certificate's
  subject (AWS::IoT::Certificate::CommonName, ::Country, ::Organization, ... and ::Id); a declared
  parameter the subject lacks fails provisioning; the first connection is dropped and the device
  must reconnect (docs jit-provisioning; aws/amazon-freertos#376).
- The CA certificate may be sent in the device's TLS chain or not (docs auto-register-device-cert).
- --jitp-keep-connection (Fleetkey's option, issue 9): the first connection stays open once provisioning succeeded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from compat_base import CompatTestCase
import fleetkey_server as fk
from ca_helpers import OpenSslCa
from test_certificates import certificate_id_of
from test_mqtt import NOT_AUTHORIZED_V5, Subscriber

ROLE = f"arn:aws:iam::{fk.ACCOUNT_ID}:role/JITPRole"


def jitp_template(policy_prefix: str, extra_parameters: tuple[str, ...] = ()) -> str:
    parameters = {"AWS::IoT::Certificate::CommonName": {"Type": "String"},
                  "AWS::IoT::Certificate::Country": {"Type": "String"}}
    for name in extra_parameters:
        parameters[name] = {"Type": "String"}
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:client/${{iot:Connection.Thing.ThingName}}"},
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/{policy_prefix}/*"},
    ]}
    return json.dumps({
        "Parameters": parameters,
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
                "AttributePayload": {"country": {"Ref": "AWS::IoT::Certificate::Country"}}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
                "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": json.dumps(policy)}},
        },
    })


class _BrokerTestCase(CompatTestCase):
    """A server of its own with the broker; subclasses choose extra serve flags."""

    extra_args: list[str] = []

    @classmethod
    def setUpClass(cls):
        missing = [tool for tool in ("mosquitto_pub", "mosquitto_sub") if shutil.which(tool) is None]
        if missing:
            raise AssertionError(f"{', '.join(missing)} not found: install the Debian package mosquitto-clients (.ci/run does)")
        cls.server = fk.FleetkeyServer(log_name=cls.__name__, mqtt=True, extra_args=["--device-key-algorithm", "ec-p256", *cls.extra_args])
        cls.server.start()
        cls.iot = fk.make_client(cls.server)
        cls.tmp = tempfile.mkdtemp(prefix="fleetkey-jitp-")
        cls.broker_ca = os.path.join(cls.tmp, "broker-ca.pem")
        with urllib.request.urlopen(cls.server.endpoint + "/ca.pem", timeout=10) as r, open(cls.broker_ca, "wb") as f:
            f.write(r.read())

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self._subscribers: list[Subscriber] = []
        self.addCleanup(lambda: [s.stop() for s in self._subscribers])

    def register_ca(self, suffix: str, **kwargs) -> tuple[OpenSslCa, str]:
        ca = OpenSslCa(self.tmp, self.name(suffix))
        code = self.iot.get_registration_code()["registrationCode"]
        ca_id = self.iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification(code), **kwargs)["certificateId"]
        return ca, ca_id

    def connect(self, cert: str, key: str, client_id: str, topic: str, version: str = "mqttv5") -> subprocess.CompletedProcess:
        return subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.server.mqtt_port), "--cafile", self.broker_ca,
             "--cert", cert, "--key", key, "-i", client_id, "-t", topic, "-m", "hello", "-q", "1", "-V", version, "-d"],
            capture_output=True, text=True, timeout=30)

    def assertRefused(self, result: subprocess.CompletedProcess, what: str) -> None:
        out = result.stdout + result.stderr
        self.assertNotEqual(result.returncode, 0, f"{what}: mosquitto_pub succeeded\n{out}")
        self.assertNotIn("received CONNACK (0)", out, f"{what}: connection accepted\n{out}")

    def assertPublished(self, result: subprocess.CompletedProcess, what: str) -> None:
        out = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, f"{what}\n{out}")
        self.assertIn("received CONNACK (0)", out, f"{what}\n{out}")
        self.assertIn("received PUBACK", out, f"{what}\n{out}")

    def watcher(self, topic_filter: str, count: int) -> Subscriber:
        """A Fleetkey-issued device whose policy allows $aws/events/#, subscribed to the filter."""
        policy = self.name("events")
        self.iot.create_policy(policyName=policy, policyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topicfilter/$aws/events/*"},
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/$aws/events/*"},
        ]}))
        created = self.iot.create_keys_and_certificate(setAsActive=True)
        self.iot.attach_policy(policyName=policy, target=created["certificateArn"])
        cert = os.path.join(self.tmp, created["certificateId"] + ".crt")
        key = os.path.join(self.tmp, created["certificateId"] + ".key")
        with open(cert, "w") as f:
            f.write(created["certificatePem"])
        with open(key, "w") as f:
            f.write(created["keyPair"]["PrivateKey"])
        os.chmod(key, 0o600)
        s = Subscriber(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.server.mqtt_port), "--cafile", self.broker_ca,
                        "--cert", cert, "--key", key, "-i", self.name("watcher"), "-t", topic_filter, "-V", "mqttv5",
                        "-q", "1", "-v", "-d", "-C", str(count), "-W", "30"])
        self._subscribers.append(s)
        self.assertTrue(s.wait_for("received SUBACK"), s.output())
        return s


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server process with the broker")
class JustInTimeRegistrationTests(_BrokerTestCase):

    def test_unknown_certificate_is_registered_pending_activation_and_event_published(self):
        ca, ca_id = self.register_ca("jitr", setAsActive=True, allowAutoRegistration=True)
        topic = f"$aws/events/certificates/registered/{ca_id}"
        watcher = self.watcher(topic, count=2)
        device = ca.issue(f"/CN={self.name('dev')}")
        cert_id = certificate_id_of(device["pem"])

        first = self.connect(device["chain"], device["key"], self.name("dev"), "t/x")
        self.assertRefused(first, "JITR first connection")
        self.assertIn(f"received CONNACK ({NOT_AUTHORIZED_V5})", first.stdout + first.stderr)
        self.assertTrue(watcher.wait_for(topic + " {"), watcher.output())
        line = next(l for l in watcher.output().splitlines() if l.startswith(topic + " {"))
        event = json.loads(line[len(topic) + 1:])
        self.assertEqual(event["certificateId"], cert_id)
        self.assertEqual(event["caCertificateId"], ca_id)
        self.assertEqual(event["certificateStatus"], "PENDING_ACTIVATION")
        self.assertEqual(event["awsAccountId"], fk.ACCOUNT_ID)
        self.assertIsInstance(event["timestamp"], int)
        self.assertIsInstance(event["certificateRegistrationTimestamp"], str)

        described = self.iot.describe_certificate(certificateId=cert_id)["certificateDescription"]
        self.assertEqual((described["status"], described["caCertificateId"]), ("PENDING_ACTIVATION", ca_id))

        # A PENDING_ACTIVATION certificate connecting again: refused, the event again (without the CA in the chain).
        again = self.connect(device["cert"], device["key"], self.name("dev"), "t/x")
        self.assertRefused(again, "JITR second connection")
        deadline = time.monotonic() + 10
        events: list[str] = []
        while time.monotonic() < deadline:
            events = [l for l in watcher.output().splitlines() if l.startswith(topic + " {")]
            if len(events) >= 2:
                break
            time.sleep(0.1)
        self.assertEqual(len(events), 2, watcher.output())

        # Activated with a policy (what a customer's rule would do), it connects like any device,
        # with or without the CA in its chain.
        policy = self.name("allow")
        self.iot.create_policy(policyName=policy, policyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iot:Connect", "iot:Publish"], "Resource": "*"}]}))
        self.iot.attach_policy(policyName=policy, target=fk.arn("cert", cert_id))
        self.iot.update_certificate(certificateId=cert_id, newStatus="ACTIVE")
        self.assertPublished(self.connect(device["chain"], device["key"], self.name("dev"), "t/x"), "activated, CA in chain")
        self.assertPublished(self.connect(device["cert"], device["key"], self.name("dev"), "t/x"), "activated, leaf only")

    def test_auto_registration_disabled_or_inactive_ca_registers_nothing(self):
        ca, ca_id = self.register_ca("noauto", setAsActive=True)
        device = ca.issue(f"/CN={self.name('dev')}")
        cert_id = certificate_id_of(device["pem"])
        self.assertRefused(self.connect(device["chain"], device["key"], self.name("dev"), "t/x"), "auto-registration disabled")
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=cert_id)

        self.iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE", newAutoRegistrationStatus="ENABLE")
        result = self.connect(device["chain"], device["key"], self.name("dev"), "t/x")
        self.assertRefused(result, "inactive CA")
        # An inactive CA is not trusted at all: the TLS handshake fails, no CONNACK.
        self.assertNotIn("received CONNACK", result.stdout + result.stderr)
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=cert_id)

    def test_certificate_of_an_unregistered_ca_fails_the_handshake(self):
        stranger = OpenSslCa(self.tmp, self.name("stranger"))
        device = stranger.issue(f"/CN={self.name('dev')}")
        result = self.connect(device["chain"], device["key"], self.name("dev"), "t/x")
        self.assertRefused(result, "unregistered CA")
        self.assertNotIn("received CONNACK", result.stdout + result.stderr)


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server process with the broker")
class JustInTimeProvisioningTests(_BrokerTestCase):

    def provisioned_thing_checks(self, thing: str, cert_id: str, prefix: str) -> None:
        described = self.iot.describe_thing(thingName=thing)
        self.assertEqual(described["attributes"], {"country": "DE"})
        principals = self.iot.list_thing_principals(thingName=thing)["principals"]
        self.assertEqual(principals, [fk.arn("cert", cert_id)])
        cert = self.iot.describe_certificate(certificateId=cert_id)["certificateDescription"]
        self.assertEqual(cert["status"], "ACTIVE")
        # A policy declared by document only is named by the document's hash (docs provision-template).
        policies = [p["policyName"] for p in self.iot.list_attached_policies(target=fk.arn("cert", cert_id))["policies"]]
        self.assertEqual(len(policies), 1, policies)
        self.assertRegex(policies[0], r"^[0-9A-F]{40}$")
        self.assertIn(f"topic/{prefix}/*", self.iot.get_policy(policyName=policies[0])["policyDocument"])

    def test_first_connection_provisions_and_is_closed_then_reconnect_publishes(self):
        prefix = self.name("p")
        ca, ca_id = self.register_ca("jitp", setAsActive=True, allowAutoRegistration=True,
                                     registrationConfig={"templateBody": jitp_template(prefix), "roleArn": ROLE})
        thing = self.name("sensor")
        device = ca.issue(f"/C=DE/O=Acme/CN={thing}")
        cert_id = certificate_id_of(device["pem"])

        first = self.connect(device["chain"], device["key"], thing, f"{prefix}/telemetry")
        self.assertRefused(first, "JITP first connection")
        self.provisioned_thing_checks(thing, cert_id, prefix)
        self.assertEqual(self.iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["caCertificateId"], ca_id)

        self.assertPublished(self.connect(device["chain"], device["key"], thing, f"{prefix}/telemetry"), "JITP reconnect")
        # The template's policy decides: another topic is refused.
        denied = self.connect(device["chain"], device["key"], thing, "elsewhere/x")
        self.assertIn(f"RC:{NOT_AUTHORIZED_V5}", denied.stdout + denied.stderr)

    def test_named_jitp_template_and_leaf_only_chain(self):
        prefix = self.name("n")
        template = fk.unique("jitp")
        self.iot.create_provisioning_template(templateName=template, templateBody=jitp_template(prefix), provisioningRoleArn=ROLE,
                                              type="JITP", enabled=True)
        ca, _ = self.register_ca("named", setAsActive=True, allowAutoRegistration=True, registrationConfig={"templateName": template})
        thing = self.name("meter")
        device = ca.issue(f"/C=DE/CN={thing}")
        cert_id = certificate_id_of(device["pem"])
        self.assertRefused(self.connect(device["cert"], device["key"], thing, f"{prefix}/t"), "JITP first connection")
        self.provisioned_thing_checks(thing, cert_id, prefix)
        self.assertPublished(self.connect(device["cert"], device["key"], thing, f"{prefix}/t"), "JITP reconnect")

    def test_parameter_missing_from_subject_fails_and_leaves_nothing(self):
        prefix = self.name("m")
        ca, _ = self.register_ca("missing", setAsActive=True, allowAutoRegistration=True,
                                 registrationConfig={"templateBody": jitp_template(prefix, ("AWS::IoT::Certificate::OrganizationalUnit",))})
        thing = self.name("nou")
        device = ca.issue(f"/C=DE/CN={thing}")
        cert_id = certificate_id_of(device["pem"])
        for attempt in range(2):
            self.assertRefused(self.connect(device["chain"], device["key"], thing, f"{prefix}/t"), f"attempt {attempt}")
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=thing)
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=cert_id)


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server process with the broker")
class JustInTimeProvisioningKeepConnectionTests(_BrokerTestCase):

    extra_args = ["--jitp-keep-connection"]

    def test_first_connection_stays_open_and_publishes(self):
        prefix = self.name("k")
        ca, _ = self.register_ca("keep", setAsActive=True, allowAutoRegistration=True,
                                 registrationConfig={"templateBody": jitp_template(prefix), "roleArn": ROLE})
        thing = self.name("kept")
        device = ca.issue(f"/C=DE/CN={thing}")
        self.assertPublished(self.connect(device["chain"], device["key"], thing, f"{prefix}/telemetry"), "JITP first connection kept")
        self.assertEqual(self.iot.describe_thing(thingName=thing)["thingName"], thing)
