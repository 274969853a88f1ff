"""Fleet provisioning (issue 9): CreateProvisioningClaim with boto3, and the claim certificate it
returns used over MQTT with mosquitto_rr (mosquitto-clients) for the fleet provisioning MQTT API.

One private server with the broker on a free port (the shared server runs without MQTT).

AWS behaviour asserted here, and its source:
- CreateProvisioningClaim: POST /provisioning-templates/{templateName}/provisioning-claim answers
  certificateId, certificatePem, keyPair {PublicKey, PrivateKey} and expiration (botocore service
  model); the claim certificate expires after 5 minutes and is not listed by ListCertificates (AWS
  IoT developer guide, "Provisioning by trusted user"); ResourceNotFoundException for an unknown
  template (model errors).
- The device then uses the fleet provisioning MQTT API: $aws/certificates/create/json answered on
  .../accepted with certificateId, certificatePem, privateKey, certificateOwnershipToken;
  RegisterThing on $aws/provisioning-templates/<name>/provision/json answered with thingName and
  deviceConfiguration (developer guide, fleet-provision-api).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk

ROLE_ARN = "arn:aws:iam::000000000000:role/FleetkeyProvisioning"
TEMPLATE_BODY = json.dumps({
    "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
    "Resources": {
        "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "SerialNumber"}}},
        "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
    },
    "DeviceConfiguration": {"Mode": "claimed"},
})


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server process with the broker")
class ProvisioningClaimTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which("mosquitto_rr") is None:
            raise AssertionError("mosquitto_rr not found: install the Debian package mosquitto-clients (.ci/run does)")
        cls.server, cls.iot, cls.tmp, cls.ca = fk.start_mqtt_server("fleet")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def template(self, suffix: str, **kwargs) -> str:
        name = f"{suffix}-{fk.RUN_ID}-{os.urandom(4).hex()}"[:36]
        self.iot.create_provisioning_template(templateName=name, templateBody=TEMPLATE_BODY, provisioningRoleArn=ROLE_ARN, enabled=True, **kwargs)
        return name

    def files(self, label: str, cert: str, key: str) -> tuple[str, str]:
        cert_path, key_path = os.path.join(self.tmp, label + ".crt"), os.path.join(self.tmp, label + ".key")
        with open(cert_path, "w") as f:
            f.write(cert)
        with open(key_path, "w") as f:
            f.write(key)
        return cert_path, key_path

    def request(self, cert: tuple[str, str], client_id: str, topic: str, payload: str) -> dict:
        """Publishes on topic and waits for the answer on topic/accepted on the same connection (mosquitto_rr, MQTT 5)."""
        out = subprocess.run(
            ["mosquitto_rr", "-h", "127.0.0.1", "-p", str(self.server.mqtt_port), "--cafile", self.ca,
             "--cert", cert[0], "--key", cert[1], "-i", client_id, "-t", topic, "-e", topic + "/accepted",
             "-m", payload, "-W", "20", "-q", "1"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout)

    def test_claim_certificate_shape_and_not_listed(self):
        name = self.template("shape")
        before = datetime.datetime.now(datetime.timezone.utc)

        claim = self.iot.create_provisioning_claim(templateName=name)

        self.assertRegex(claim["certificateId"], r"^[0-9a-f]{64}$")
        self.assertIn("BEGIN CERTIFICATE", claim["certificatePem"])
        self.assertIn("PUBLIC KEY", claim["keyPair"]["PublicKey"])
        self.assertIn("PRIVATE KEY", claim["keyPair"]["PrivateKey"])
        # Five minutes from now (the certificate's notAfter; whole seconds).
        lifetime = (claim["expiration"] - before).total_seconds()
        self.assertTrue(280 <= lifetime <= 301, lifetime)
        listed = [c["certificateId"] for c in self.all_pages("list_certificates", "certificates")]
        self.assertNotIn(claim["certificateId"], listed)
        self.assertClientError(self.iot.create_provisioning_claim, "ResourceNotFoundException", 404, templateName="fleetkey-no-such-template")

    def test_claim_certificate_provisions_a_device_over_mqtt(self):
        name = self.template("mqtt")
        claim = self.iot.create_provisioning_claim(templateName=name)
        claim_files = self.files("claim", claim["certificatePem"], claim["keyPair"]["PrivateKey"])
        serial = self.name("dev")[:40]

        created = self.request(claim_files, "claim-" + serial, "$aws/certificates/create/json", "{}")
        registered = self.request(claim_files, "claim-" + serial, f"$aws/provisioning-templates/{name}/provision/json",
                                  json.dumps({"certificateOwnershipToken": created["certificateOwnershipToken"], "parameters": {"SerialNumber": serial}}))

        self.assertEqual(registered, {"deviceConfiguration": {"Mode": "claimed"}, "thingName": serial})
        description = self.iot.describe_certificate(certificateId=created["certificateId"])["certificateDescription"]
        self.assertEqual(description["status"], "ACTIVE")
        self.assertEqual(self.iot.list_thing_principals(thingName=serial)["principals"], [fk.arn("cert", created["certificateId"])])
        self.assertIn("PRIVATE KEY", created["privateKey"])

    def test_create_from_csr_names_nothing_the_csr_asks_for(self):
        # Issue 16, defect 4: a claim certificate is shared by a fleet and the thing is not known before
        # RegisterThing, so the certificate gets the one fixed device subject whatever the CSR asks for.
        name = self.template("csr")
        claim = self.iot.create_provisioning_claim(templateName=name)
        claim_files = self.files("claim-csr", claim["certificatePem"], claim["keyPair"]["PrivateKey"])
        key = os.path.join(self.tmp, "csr-device.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], check=True, capture_output=True)
        csr = subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=SN-A/O=Evil/OU=admin",
                              "-addext", "subjectAltName=DNS:admin.example.com"], check=True, capture_output=True, text=True).stdout
        serial = self.name("csr")[:40]

        created = self.request(claim_files, "claim-" + serial, "$aws/certificates/create-from-csr/json", json.dumps({"certificateSigningRequest": csr}))

        x509 = lambda *args: subprocess.run(["openssl", "x509", "-noout", *args], input=created["certificatePem"],
                                            check=True, capture_output=True, text=True).stdout
        self.assertEqual(x509("-subject", "-nameopt", "RFC2253").strip(), "subject=CN=Fleetkey Device Certificate")
        self.assertNotIn("admin.example.com", x509("-text"))
        registered = self.request(claim_files, "claim-" + serial, f"$aws/provisioning-templates/{name}/provision/json",
                                  json.dumps({"certificateOwnershipToken": created["certificateOwnershipToken"], "parameters": {"SerialNumber": serial}}))
        self.assertEqual(registered["thingName"], serial)


if __name__ == "__main__":
    unittest.main()
