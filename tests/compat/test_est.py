"""EST (RFC 7030) on the device listener, scripted as a device would with curl and openssl only:
cacerts (certs-only PKCS#7), simpleenroll authenticated by the enrollment's SharedAccessSignature,
simplereenroll authenticated by the current certificate over mutual TLS (re-key required), and the
renewed certificate taking over: same thing, same policies, the old one retired when the new one first
connects to the broker (mosquitto). No EST client is packaged for Debian or npm here; curl and openssl
speak the protocol as RFC 7030's examples do."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import fleetkey_server as fk
from test_device_endpoint import SEED_TEMPLATE, ROLE_ARN, sas_token

EST = "/.well-known/est"


def run(*args, input: bytes | None = None, env=None, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), input=input, capture_output=True, timeout=60, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout.decode(errors='replace')}\n{result.stderr.decode(errors='replace')}")
    return result


class EstTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = fk.FleetkeyServer(log_name="est", tls=True, mqtt=True, extra_args=["--device-key-algorithm", "ec-p256", "--renewal-grace", "36h"]).start()
        cls.iot = fk.make_client(cls.server)
        cls.iot.create_thing_type(thingTypeName="NewDevice")
        cls.iot.create_thing_group(thingGroupName="NewDevices")
        cls.iot.create_policy(policyName="DefaultNewDevicePolicy", policyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}))
        cls.template = f"est-{fk.RUN_ID}"
        cls.iot.create_provisioning_template(templateName=cls.template, templateBody=SEED_TEMPLATE, provisioningRoleArn=ROLE_ARN, enabled=True)
        cls.tmp = tempfile.mkdtemp(prefix="fleetkey-est-")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, f"fleetkey serve exited with {code}"

    # ------------------------------------------------------------ helpers: a device with curl and openssl

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def new_key(self, name: str) -> str:
        key = self.path(name)
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        return key

    def csr_base64(self, key: str, subject: str = "/CN=ignored") -> bytes:
        """openssl req → DER → base64, the body RFC 7030 sends."""
        der = run("openssl", "req", "-new", "-key", key, "-subj", subject, "-outform", "DER").stdout
        return run("openssl", "base64", input=der).stdout

    def curl(self, method: str, route: str, body: bytes | None = None, headers: tuple = (), cert: tuple[str, str] | None = None):
        """Returns (status, headers text, body bytes)."""
        out, head = self.path("body.out"), self.path("head.out")
        args = ["curl", "-sS", "-X", method, "--cacert", self.server.ca_bundle, "-o", out, "-D", head, "-w", "%{http_code}"]
        for h in headers:
            args += ["-H", h]
        if cert:
            args += ["--cert", cert[0], "--key", cert[1]]
        if body is not None:
            args += ["-H", "Content-Type: application/pkcs10", "--data-binary", "@-"]
        result = run(*args, self.server.device_url + route, input=body)
        with open(out, "rb") as f, open(head) as g:
            return int(result.stdout.decode()), g.read(), f.read()

    def certs(self, base64_pkcs7: bytes) -> list[str]:
        """openssl pkcs7 -print_certs of a base64 certs-only answer: the PEM certificates in it."""
        der = run("openssl", "base64", "-d", input=base64_pkcs7).stdout
        text = run("openssl", "pkcs7", "-inform", "DER", "-print_certs", input=der).stdout.decode()
        return ["-----BEGIN CERTIFICATE-----" + c.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
                for c in text.split("-----BEGIN CERTIFICATE-----")[1:]]

    def enroll(self, serial: str) -> str:
        status, _, raw = fk.signed_request("POST", f"/enrollments/{serial}", json.dumps({"templateName": self.template}).encode(), server=self.server)
        self.assertEqual(status, 200, raw)
        return json.loads(raw)["deviceSecret"]

    def certificate_id(self, pem: str) -> str:
        der = run("openssl", "x509", "-outform", "DER", input=pem.encode()).stdout
        return hashlib.sha256(der).hexdigest()

    def simpleenroll(self, serial: str) -> tuple[str, str]:
        """A first certificate over EST; returns (key file, certificate file)."""
        secret = self.enroll(serial)
        key = self.new_key(f"{serial}.key")
        status, headers, body = self.curl("POST", f"{EST}/simpleenroll", self.csr_base64(key),
                                          headers=(f"Authorization: {sas_token(serial, secret, int(time.time()) + 300)}",))
        self.assertEqual(status, 200, body)
        self.assertIn("application/pkcs7-mime", headers)
        [certificate] = self.certs(body)
        cert = self.path(f"{serial}.crt")
        with open(cert, "w") as f:
            f.write(certificate)
        return key, cert

    def status(self, certificate_id: str) -> str:
        return self.iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]["status"]

    # ------------------------------------------------------------ tests

    def test_cacerts_is_the_chain_as_certs_only_pkcs7(self):
        status, headers, body = self.curl("GET", f"{EST}/cacerts")
        self.assertEqual(status, 200)
        self.assertIn("application/pkcs7-mime; smime-type=certs-only", headers)
        chain = self.certs(body)
        self.assertEqual(len(chain), 2)
        with open(self.server.ca_bundle) as f:
            bundle = f.read()
        for certificate in chain:
            self.assertIn(certificate.strip().splitlines()[1], bundle)

    def test_simpleenroll_issues_for_the_enrollment_and_applies_its_template(self):
        serial = fk.unique("est-enroll")
        key, cert = self.simpleenroll(serial)
        run("openssl", "verify", "-CAfile", self.server.ca_bundle, cert)
        subject = run("openssl", "x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253").stdout.decode().strip()
        self.assertEqual(subject, f"subject=CN={serial}")
        with open(cert) as f:
            certificate_id = self.certificate_id(f.read())
        self.assertEqual(self.iot.describe_thing(thingName=serial)["thingTypeName"], "NewDevice")
        self.assertEqual(self.iot.list_thing_principals(thingName=serial)["principals"], [fk.arn("cert", certificate_id)])
        self.assertEqual(self.status(certificate_id), "ACTIVE")

    def test_simpleenroll_refusals(self):
        serial = fk.unique("est-refused")
        secret = self.enroll(serial)
        key = self.new_key(f"{serial}.key")
        csr = self.csr_base64(key)
        token = sas_token(serial, secret, int(time.time()) + 300)

        status, headers, _ = self.curl("POST", f"{EST}/simpleenroll", csr)
        self.assertEqual(status, 401)
        self.assertIn("SharedAccessSignature", headers)

        status, _, body = self.curl("POST", f"{EST}/simpleenroll", b"not base64 at all!", headers=(f"Authorization: {token}",))
        self.assertEqual(status, 400, body)
        self.assertIn(b"PKCS#10", body)

        status, _, _ = self.curl("POST", f"{EST}/simpleenroll", b"A" * 20000, headers=(f"Authorization: {sas_token(serial, secret, int(time.time()) + 301)}",))
        self.assertEqual(status, 400)

        wrong = base64.b64encode(os.urandom(32)).decode()
        status, _, _ = self.curl("POST", f"{EST}/simpleenroll", csr, headers=(f"Authorization: {sas_token(serial, wrong, int(time.time()) + 302)}",))
        self.assertEqual(status, 401)
        with self.assertRaises(Exception):
            self.iot.describe_thing(thingName=serial)

    def test_simplereenroll_renews_with_a_new_key_and_retires_the_old_one_on_first_connect(self):
        serial = fk.unique("est-renew")
        key, cert = self.simpleenroll(serial)
        with open(cert) as f:
            old_id = self.certificate_id(f.read())
        self.iot.attach_policy(policyName="DefaultNewDevicePolicy", target=fk.arn("cert", old_id))

        # Re-keying is required: the current key is refused.
        status, _, body = self.curl("POST", f"{EST}/simplereenroll", self.csr_base64(key), cert=(cert, key))
        self.assertEqual(status, 400, body)
        self.assertIn(b"new key", body)

        # Without the client certificate there is nothing to renew.
        new_key = self.new_key(f"{serial}-2.key")
        status, _, _ = self.curl("POST", f"{EST}/simplereenroll", self.csr_base64(new_key))
        self.assertEqual(status, 401)

        status, headers, body = self.curl("POST", f"{EST}/simplereenroll", self.csr_base64(new_key, "/CN=someone-else"), cert=(cert, key))
        self.assertEqual(status, 200, body)
        [renewed] = self.certs(body)
        new_cert = self.path(f"{serial}-2.crt")
        with open(new_cert, "w") as f:
            f.write(renewed)
        new_id = self.certificate_id(renewed)
        subject = run("openssl", "x509", "-in", new_cert, "-noout", "-subject", "-nameopt", "RFC2253").stdout.decode().strip()
        self.assertEqual(subject, f"subject=CN={serial}", "the issuer keeps the renewed certificate's subject")
        run("openssl", "verify", "-CAfile", self.server.ca_bundle, new_cert)

        # Same thing, same policies; both ACTIVE until the new one is used.
        principals = sorted(self.iot.list_thing_principals(thingName=serial)["principals"])
        self.assertEqual(principals, sorted([fk.arn("cert", old_id), fk.arn("cert", new_id)]))
        self.assertEqual([p["policyName"] for p in self.iot.list_attached_policies(target=fk.arn("cert", new_id))["policies"]], ["DefaultNewDevicePolicy"])
        self.assertEqual((self.status(old_id), self.status(new_id)), ("ACTIVE", "ACTIVE"))

        # --renewal-grace 36h: the old one would be retired 36 hours from now at the latest (the server log says when).
        with open(self.server.log_path) as f:
            line = next(l for l in f if f"Certificate {old_id} renewed as {new_id}" in l)
        deadline_text = line.rsplit(" or at ", 1)[1].strip()
        retire_at = datetime.datetime.strptime(deadline_text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        hours = (retire_at - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 3600
        self.assertTrue(35.9 < hours <= 36, f"grace ends in {hours:.2f} h, not 36 h")

        # The device connects with its new certificate: the old one goes INACTIVE.
        run("mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.server.mqtt_port), "--cafile", self.server.ca_bundle,
            "--cert", new_cert, "--key", new_key, "-i", serial, "-t", "hello", "-m", "x", "-q", "0")
        deadline = time.monotonic() + 15
        while self.status(old_id) != "INACTIVE":
            self.assertLess(time.monotonic(), deadline, "the old certificate is still ACTIVE 15 s after its successor connected")
            time.sleep(0.2)
        self.assertEqual(self.status(new_id), "ACTIVE")

        # The retired certificate can renew no more.
        status, _, _ = self.curl("POST", f"{EST}/simplereenroll", self.csr_base64(self.new_key(f"{serial}-3.key")), cert=(cert, key))
        self.assertEqual(status, 401)

    def test_renewal_grace_flag_refuses_what_is_not_a_duration(self):
        result = run("dotnet", fk.dll_path(), "serve", "--data", self.path("never"), "--renewal-grace", "7 days", check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"--renewal-grace", result.stderr)
        self.assertFalse(os.path.exists(self.path("never")))

    def test_simplereenroll_refuses_a_certificate_fleetkey_does_not_know(self):
        key = self.new_key("stranger.key")
        cert = self.path("stranger.crt")
        run("openssl", "req", "-x509", "-key", key, "-subj", "/CN=stranger", "-days", "1", "-out", cert)
        status, _, body = self.curl("POST", f"{EST}/simplereenroll", self.csr_base64(self.new_key("stranger-2.key")), cert=(cert, key))
        self.assertEqual(status, 401, body)


if __name__ == "__main__":
    unittest.main()
