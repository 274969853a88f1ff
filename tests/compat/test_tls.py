"""TLS on the HTTP listeners (issue 19), with real clients: boto3 (`verify=`), the AWS CLI (`--ca-bundle`),
curl (`--cacert`, and a device registering with curl and openssl), Python's ssl and openssl s_client; the
operator's own certificate (`--tls-cert`/`--tls-key`) reloaded on rotation without a restart, shared by the
MQTT broker; and the rule that plain HTTP does not leave loopback without `--allow-plain-http`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import botocore.exceptions

import fleetkey_server as fk

HERE = os.path.dirname(os.path.abspath(__file__))


def run(*args, env=None, timeout=60, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def served_certificate(port: int, context: ssl.SSLContext | None = None) -> bytes:
    """The DER of the certificate the listener presents (not verified: what is served, whoever signed it)."""
    if context is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
        return tls.getpeercert(binary_form=True)


def mqtt_served_certificate(port: int) -> bytes:
    """The broker's certificate, as openssl s_client prints it (the broker refuses a client without a certificate
    after sending its own)."""
    result = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"],
                            input="", capture_output=True, text=True, timeout=30)
    pem = result.stdout[result.stdout.index("-----BEGIN CERTIFICATE-----"):result.stdout.index("-----END CERTIFICATE-----") + 25]
    return ssl.PEM_cert_to_DER_cert(pem)


def sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


class FleetkeyCaTlsTests(unittest.TestCase):
    """Both listeners on HTTPS with the certificate Fleetkey's own CA issues; clients trust DIR/ca.pem."""

    @classmethod
    def setUpClass(cls):
        cls.server = fk.FleetkeyServer(log_name="tls", tls=True, mqtt=True, extra_args=["--device-key-algorithm", "ec-p256"]).start()
        cls.iot = fk.make_client(cls.server)
        cls.tmp = tempfile.mkdtemp(prefix="fleetkey-tls-")

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, f"fleetkey serve exited with {code}"

    def test_boto3_with_the_ca_bundle_round_trips(self):
        name = fk.unique("tls-thing")
        created = self.iot.create_thing(thingName=name, attributePayload={"attributes": {"site": "lab"}})
        self.assertEqual(self.iot.describe_thing(thingName=name)["thingId"], created["thingId"])
        keys = self.iot.create_keys_and_certificate(setAsActive=True)
        self.assertIn("BEGIN EC PRIVATE KEY", keys["keyPair"]["PrivateKey"])

    def test_boto3_with_the_systems_roots_refuses_the_certificate(self):
        import boto3
        untrusting = boto3.client("iot", endpoint_url=self.server.endpoint, region_name=fk.REGION,
                                  aws_access_key_id=self.server.access_key_id, aws_secret_access_key=self.server.secret_access_key)
        with self.assertRaises(botocore.exceptions.SSLError) as caught:
            untrusting.list_things()
        self.assertIn("CERTIFICATE_VERIFY_FAILED", str(caught.exception))

    def test_aws_cli_with_ca_bundle(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.server.access_key_id, AWS_SECRET_ACCESS_KEY=self.server.secret_access_key,
                   AWS_DEFAULT_REGION=fk.REGION, AWS_EC2_METADATA_DISABLED="true")
        env.pop("AWS_CA_BUNDLE", None)
        name = fk.unique("cli-tls")
        run("aws", "--endpoint-url", self.server.endpoint, "--ca-bundle", self.server.ca_bundle, "iot", "create-thing", "--thing-name", name, env=env)
        listed = run("aws", "--endpoint-url", self.server.endpoint, "--ca-bundle", self.server.ca_bundle, "iot", "describe-thing", "--thing-name", name, env=env)
        self.assertEqual(json.loads(listed.stdout)["thingName"], name)

        # AWS_CA_BUNDLE is the same setting; without either the CLI refuses the certificate.
        run("aws", "--endpoint-url", self.server.endpoint, "iot", "describe-thing", "--thing-name", name, env=dict(env, AWS_CA_BUNDLE=self.server.ca_bundle))
        refused = run("aws", "--endpoint-url", self.server.endpoint, "iot", "describe-thing", "--thing-name", name, env=env, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", refused.stderr)

    def test_curl_device_registers_over_https(self):
        template = fk.unique("tls-template")
        self.iot.create_provisioning_template(
            templateName=template, enabled=True, provisioningRoleArn="arn:aws:iam::000000000000:role/fleetkey",
            templateBody=json.dumps({"Parameters": {"SerialNumber": {"Type": "String"}},
                                     "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "SerialNumber"}}},
                                                   "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}}}}))
        serial = fk.unique("tls-dev")
        status, _, raw = fk.signed_request("POST", f"/enrollments/{serial}", json.dumps({"templateName": template}).encode(), server=self.server)
        self.assertEqual(status, 200, raw)
        secret = json.loads(raw)["deviceSecret"]

        out = os.path.join(self.tmp, serial)
        script = os.path.join(HERE, "device_register_curl.sh")
        # Without the CA, curl refuses the device listener (it is HTTPS by default, with Fleetkey's certificate).
        refused = run("bash", script, self.server.device_url, serial, secret, out, check=False, env=dict(os.environ, CURL_CA_BUNDLE="/nonexistent"))
        self.assertNotEqual(refused.returncode, 0)
        result = run("bash", script, self.server.device_url, serial, secret, out, env=dict(os.environ, CURL_CA_BUNDLE=self.server.ca_bundle))
        self.assertEqual(result.stdout.strip(), "200", result.stdout + result.stderr)
        with open(os.path.join(out, "response.json")) as f:
            answer = json.load(f)
        self.assertEqual(self.iot.describe_certificate(certificateId=answer["certificateId"])["certificateDescription"]["status"], "ACTIVE")
        self.assertTrue(os.path.exists(os.path.join(out, "private.key")))

        health = run("curl", "-sS", "--cacert", self.server.ca_bundle, f"{self.server.device_url}/health")
        self.assertEqual(json.loads(health.stdout)["status"], "ok")

    def test_only_tls_1_2_and_1_3(self):
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.subTest(version=version.name):
                context = self.server.ssl_context()
                context.minimum_version = context.maximum_version = version
                with socket.create_connection(("127.0.0.1", self.server.device_port), timeout=10) as raw, \
                        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    self.assertEqual(tls.version(), {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name])

        # An old client is refused by the server (its alert, not the client's own policy).
        result = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.port}", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                                input="", capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("alert protocol version", result.stdout + result.stderr)

    def test_one_certificate_for_the_listeners_and_the_broker_naming_the_hosts(self):
        control = served_certificate(self.server.port, self.server.ssl_context())
        self.assertEqual(control, served_certificate(self.server.device_port))
        self.assertEqual(sha256(control), sha256(mqtt_served_certificate(self.server.mqtt_port)))
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
            f.write(ssl.DER_cert_to_PEM_cert(control))
        try:
            text = run("openssl", "x509", "-in", f.name, "-noout", "-ext", "subjectAltName,extendedKeyUsage").stdout
            verified = run("openssl", "verify", "-CAfile", self.server.ca_bundle, f.name)
        finally:
            os.remove(f.name)
        self.assertIn(f"DNS:{fk.PUBLIC_HOST}", text)
        self.assertIn("DNS:localhost", text)
        self.assertIn("IP Address:127.0.0.1", text)
        self.assertIn("TLS Web Server Authentication", text)
        self.assertIn(": OK", verified.stdout)


class OperatorCertificateTests(unittest.TestCase):
    """--tls-cert/--tls-key: the operator's certificate on every TLS listener, reloaded when the files change."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fleetkey-optls-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.ca_key = os.path.join(self.tmp, "operator-ca.key")
        self.ca = os.path.join(self.tmp, "operator-ca.pem")
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.ca_key,
            "-out", self.ca, "-days", "30", "-subj", "/CN=Operator Test CA")
        self.cert = os.path.join(self.tmp, "tls.crt")
        self.key = os.path.join(self.tmp, "tls.key")

    def issue(self, name: str) -> str:
        """Writes a new key and certificate (with the CA after it) as a rotation does: each file replaced whole.
        Returns the certificate's SHA-256."""
        key = os.path.join(self.tmp, f"{name}.key")
        csr = os.path.join(self.tmp, f"{name}.csr")
        cert = os.path.join(self.tmp, f"{name}.crt")
        ext = os.path.join(self.tmp, f"{name}.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial", "-out", cert, "-days", "10", "-extfile", ext)
        with open(cert) as f, open(self.ca) as g:
            chain = f.read() + g.read()
        for target, text in ((self.key, open(key).read()), (self.cert, chain)):
            with open(target + ".tmp", "w") as f:
                f.write(text)
            os.replace(target + ".tmp", target)
        return sha256(ssl.PEM_cert_to_DER_cert(open(cert).read()))

    def test_operator_certificate_served_and_rotated_without_restart(self):
        first = self.issue("first")
        server = fk.FleetkeyServer(log_name="optls", mqtt=True, extra_args=["--tls-cert", self.cert, "--tls-key", self.key, "--device-key-algorithm", "ec-p256"])
        server.tls = True
        # The health poll trusts ca.pem; with the operator's certificate clients trust the operator's CA.
        server.ssl_context = lambda: ssl.create_default_context(cafile=self.ca)
        server.start()
        self.addCleanup(server.cleanup)

        self.assertEqual(sha256(served_certificate(server.port, ssl.create_default_context(cafile=self.ca))), first)
        self.assertEqual(sha256(served_certificate(server.device_port)), first)
        self.assertEqual(sha256(mqtt_served_certificate(server.mqtt_port)), first)
        import boto3
        iot = boto3.client("iot", endpoint_url=server.endpoint, region_name=fk.REGION, verify=self.ca,
                           aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key)
        self.assertEqual(iot.list_things()["things"], [])

        second = self.issue("second")
        deadline = time.monotonic() + 30
        while sha256(served_certificate(server.device_port)) != second:
            self.assertLess(time.monotonic(), deadline, "the rotated certificate was not served within 30 s\n" + server.log_tail())
            time.sleep(0.5)
        self.assertEqual(sha256(served_certificate(server.port)), second)
        self.assertEqual(sha256(mqtt_served_certificate(server.mqtt_port)), second)
        self.assertEqual(iot.list_things()["things"], [])
        self.assertTrue(server.running())
        with open(server.log_path) as f:
            log = f.read()
        self.assertIn("TLS server certificate replaced", log)
        self.assertNotIn("PRIVATE KEY", log)

    def test_unusable_files_stop_the_start_with_one_line(self):
        self.issue("only")
        other_key = os.path.join(self.tmp, "other.key")
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", other_key)
        cases = {
            "certificate without key": (["--tls-cert", self.cert], "--tls-cert and --tls-key go together"),
            "key of another certificate": (["--tls-cert", self.cert, "--tls-key", other_key], "cannot be used"),
            "missing file": (["--tls-cert", self.cert + ".missing", "--tls-key", self.key], "cannot be read"),
        }
        for what, (args, expected) in cases.items():
            with self.subTest(what):
                data = os.path.join(self.tmp, "data-" + what.replace(" ", "-"))
                result = run("dotnet", fk.dll_path(), "serve", "--data", data, "--http", f"https://127.0.0.1:{fk.free_port()}",
                             "--device-http", f"https://127.0.0.1:{fk.free_port()}", "--mqtt-port", "0", *args, check=False, timeout=120)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                self.assertIn(expected, result.stderr)
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
                self.assertFalse(os.path.exists(data), "a refused start created the data directory")


class PlainHttpRuleTests(unittest.TestCase):
    """Plain HTTP stays on loopback unless the operator says a TLS-terminating proxy is in front."""

    def test_plain_http_off_loopback_refused_without_allow_plain_http(self):
        tmp = tempfile.mkdtemp(prefix="fleetkey-plain-")
        self.addCleanup(shutil.rmtree, tmp, True)
        for flag in ("--http", "--device-http"):
            with self.subTest(flag=flag):
                data = os.path.join(tmp, flag.strip("-"))
                urls = {"--http": f"http://127.0.0.1:{fk.free_port()}", "--device-http": f"http://127.0.0.1:{fk.free_port()}"}
                urls[flag] = f"http://0.0.0.0:{fk.free_port()}"
                result = run("dotnet", fk.dll_path(), "serve", "--data", data, "--mqtt-port", "0",
                             "--http", urls["--http"], "--device-http", urls["--device-http"], check=False, timeout=120)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                self.assertIn(f"{flag} http://0.0.0.0:", result.stderr)
                self.assertIn("--allow-plain-http", result.stderr)
                self.assertFalse(os.path.exists(data))

    def test_allow_plain_http_serves_on_every_interface(self):
        server = fk.FleetkeyServer(log_name="plain")
        server.extra_args = ["--allow-plain-http"]
        command = server.command

        def every_interface():
            args = command()
            args[args.index("--http") + 1] = f"http://0.0.0.0:{server.port}"
            return args
        server.command = every_interface
        server.start()
        self.addCleanup(server.cleanup)
        self.assertEqual(fk.make_client(server).list_things()["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_device_listener_is_https_by_default(self):
        result = run("dotnet", fk.dll_path(), "serve", "--help", timeout=60)
        line = next(l for l in result.stdout.splitlines() if "--device-http" in l)
        self.assertIn("[default: https://127.0.0.1:5081]", line)


if __name__ == "__main__":
    unittest.main()
