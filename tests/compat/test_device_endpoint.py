"""The device endpoint (POST /device/register on the --device-http listener), end to end: devices written
with the Python standard library only and with curl + openssl register against a real `fleetkey serve`;
their certificates verify against /ca.pem and their things exist (boto3) as the seed's template says.
The template is stored with create_provisioning_template, the enrollments with SigV4-signed
POST /enrollments/{serialNumber}, as issue 7 specifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import fleetkey_server as fk

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_TEMPLATE = fk.seed_template()
ROLE_ARN = "arn:aws:iam::000000000000:role/FleetkeyProvisioning"
UNAUTHORIZED = {"message": "The device could not be authenticated."}

# Every device secret and signature this module used: none may appear in the server's log.
SECRETS_USED: list[str] = []


# ---------------------------------------------------------------- the device, standard library only

IN_CI = os.environ.get("CI", "").lower() == "true"
ADDRESSES = itertools.count(1)


def sas_token(serial: str, secret_b64: str, expiry: int) -> str:
    """SharedAccessSignature sr=&se=&sig= with sig = base64(HMAC-SHA256(secret, serial + "\\n" + expiry))."""
    sig = base64.b64encode(hmac.new(base64.b64decode(secret_b64), f"{serial}\n{expiry}".encode(), hashlib.sha256).digest()).decode()
    SECRETS_USED.extend([secret_b64, sig])
    q = lambda v: urllib.parse.quote(v, safe="")
    return f"SharedAccessSignature sr={q(serial)}&se={expiry}&sig={q(sig)}"


def device_register(device_url: str, serial: str, secret_b64: str | None = None, csr: str | None = None,
                    parameters: dict | None = None, expiry: int | None = None, authorization: str | None = None,
                    forwarded_for: str | None = None, raw_body: bytes | None = None):
    """POSTs /device/register as a device would; returns (status, headers, parsed JSON body)."""
    body = {"serialNumber": serial}
    if csr is not None:
        body["csr"] = csr
    if parameters is not None:
        body["parameters"] = parameters
    headers = {"Content-Type": "application/json"}
    if authorization is None and secret_b64 is not None:
        authorization = sas_token(serial, secret_b64, expiry if expiry is not None else int(time.time()) + 600)
    if authorization is not None:
        headers["Authorization"] = authorization
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    data = raw_body if raw_body is not None else json.dumps(body).encode()
    request = urllib.request.Request(device_url + "/device/register", data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, json.loads(r.read())
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, {k.lower(): v for k, v in e.headers.items()}, json.loads(text) if text else None


def raw_register(device_url: str, body, headers: dict, chunked: bool = False):
    """POSTs bytes exactly as given (invalid UTF-8, any content type, chunked without a length) with
    http.client; returns (status, headers, body bytes)."""
    parsed = urllib.parse.urlparse(device_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    try:
        connection.request("POST", "/device/register", body=body, headers=headers, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True).stdout


class DeviceEndpointTests(unittest.TestCase):
    """One server of its own: the rates are per address and per serial, and X-Forwarded-For is trusted so
    that each test speaks from its own address."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.server = fk.FleetkeyServer(log_name="device", mqtt=True, extra_args=[
            "--device-trust-forwarded-for", "--device-key-algorithm", "ec-p256"]).start()
        cls.device_url = f"http://127.0.0.1:{cls.server.device_port}"
        cls.iot = fk.make_client(cls.server)
        cls.iot.create_thing_type(thingTypeName="NewDevice")
        cls.iot.create_thing_group(thingGroupName="NewDevices")
        cls.iot.create_policy(policyName="DefaultNewDevicePolicy", policyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}))
        cls.template = f"seed-{fk.RUN_ID}"
        cls.iot.create_provisioning_template(templateName=cls.template, templateBody=SEED_TEMPLATE,
                                             provisioningRoleArn=ROLE_ARN, enabled=True)
        with urllib.request.urlopen(cls.server.endpoint + "/ca.pem", timeout=10) as r:
            cls.ca_pem = r.read().decode()
        cls.tmp = tempfile.mkdtemp(prefix="fleetkey-device-")
        cls.ca_file = os.path.join(cls.tmp, "ca.pem")
        with open(cls.ca_file, "w") as f:
            f.write(cls.ca_pem)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        with open(cls.server.log_path, errors="replace") as f:
            log = f.read()
        cls.server.cleanup()
        assert code == 0, f"fleetkey serve exited with {code}"
        leaked = [s for s in SECRETS_USED if s in log or urllib.parse.quote(s, safe="") in log]
        assert SECRETS_USED and not leaked, f"the server log holds {len(leaked)} device secrets or signatures"

    def setUp(self):
        self.serial = f"SN-{fk.RUN_ID}-{uuid.uuid4().hex[:8]}"
        # An address of the test's own (TEST-NET-2), so address rates of different tests do not add up:
        # one per test in turn (random ones collided now and then).
        self.address = f"198.51.100.{next(ADDRESSES)}"

    # ------------------------------------------------------------ helpers

    def enroll(self, serial: str | None = None, **body) -> str:
        """SigV4-signed POST /enrollments/{serial}; returns the device secret (base64)."""
        body.setdefault("templateName", self.template)
        status, _, raw = fk.signed_request("POST", f"/enrollments/{serial or self.serial}", json.dumps(body).encode(), server=self.server)
        self.assertEqual(status, 200, raw)
        answer = json.loads(raw)
        self.assertEqual(len(base64.b64decode(answer["deviceSecret"])), 32)
        SECRETS_USED.append(answer["deviceSecret"])
        return answer["deviceSecret"]

    def register(self, secret: str | None = None, serial: str | None = None, **kwargs):
        kwargs.setdefault("forwarded_for", self.address)
        return device_register(self.device_url, serial or self.serial, secret, **kwargs)

    def assertRegistered(self, answer) -> dict:
        status, _, body = answer
        self.assertEqual(status, 200, body)
        return body

    def assertError(self, answer, status: int, error_type: str, message: str | None = None) -> dict:
        got_status, headers, body = answer
        self.assertEqual((got_status, headers.get("x-amzn-errortype")), (status, error_type), body)
        self.assertIn("message", body)
        if message is not None:
            self.assertIn(message, body["message"])
        return body

    def audit(self, where: str, *args) -> list[tuple]:
        """Rows (outcome, reason, authenticated) of device_attempts, the audit log, in the server's own database."""
        sql = "SELECT outcome, reason, authenticated FROM device_attempts WHERE " + where + " ORDER BY attempted_at, attempt_id"
        if self.server.database:
            quoted = [("'" + str(a).replace("'", "''") + "'") for a in args]
            text = fk.query_database(self.server.database, sql.replace("?", "{}").format(*quoted))
            return [(o, r or None, int(a)) for o, r, a in (line.split("|") for line in text.splitlines() if line)]
        with sqlite3.connect(f"file:{os.path.join(self.server.data_dir, 'fleetkey.db')}?mode=ro", uri=True) as db:
            return [tuple(row) for row in db.execute(sql, args)]

    def log_lines(self, text: str) -> list[str]:
        with open(self.server.log_path, errors="replace") as f:
            return [line for line in f if text in line]

    def log_lines_once(self, text: str, count: int, timeout: float = 10.0) -> list[str]:
        """The log lines holding text once there are `count` of them (or at the deadline): the server's
        logger writes from a queue of its own, so a line may land after its request was answered."""
        deadline = time.monotonic() + timeout
        lines = self.log_lines(text)
        while len(lines) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            lines = self.log_lines(text)
        return lines

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, f"{self.serial}-{name}")
        with open(path, "w") as f:
            f.write(text)
        return path

    def assertVerifies(self, certificate_pem: str):
        # openssl verify -CAfile <(GET /ca.pem): the chain is root + issuing CA.
        result = subprocess.run(["openssl", "verify", "-CAfile", self.ca_file, self.write("cert.pem", certificate_pem)],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn(": OK", result.stdout)

    def assertSeedThing(self, serial: str, certificate_id: str):
        """The seed template's resources, as boto3 sees them."""
        thing = self.iot.describe_thing(thingName=serial)
        self.assertEqual(thing["thingTypeName"], "NewDevice")
        self.assertEqual(thing["attributes"], {"serialNumber": serial})
        groups = [g["groupName"] for g in self.iot.list_thing_groups_for_thing(thingName=serial)["thingGroups"]]
        self.assertEqual(groups, ["NewDevices"])
        cert_arn = fk.arn("cert", certificate_id)
        self.assertEqual(self.iot.list_thing_principals(thingName=serial)["principals"], [cert_arn])
        policies = [p["policyName"] for p in self.iot.list_attached_policies(target=cert_arn)["policies"]]
        self.assertEqual(policies, ["DefaultNewDevicePolicy"])
        self.assertEqual(self.iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]["status"], "ACTIVE")

    # ------------------------------------------------------------ the two device clients

    def test_stdlib_device_key_mode_registers(self):
        secret = self.enroll()

        body = self.assertRegistered(self.register(secret))

        self.assertEqual(body["thingName"], self.serial)
        self.assertEqual(body["caCertificatesPem"], self.ca_pem)
        self.assertEqual(body["mqtt"], {"host": fk.PUBLIC_HOST, "port": self.server.mqtt_port})
        # In the region the enrollment was made in (the request's), as DescribeCertificate says (issue 16, defect 7).
        self.assertEqual(body["certificateArn"], fk.arn("cert", body["certificateId"]))
        described = self.iot.describe_certificate(certificateId=body["certificateId"])["certificateDescription"]
        self.assertEqual(body["certificateArn"], described["certificateArn"])
        self.assertVerifies(body["certificatePem"])
        # The private key is the certificate's.
        key_pub = openssl("pkey", "-pubout", input=body["privateKey"].encode())
        cert_pub = openssl("x509", "-noout", "-pubkey", input=body["certificatePem"].encode())
        self.assertEqual(key_pub, cert_pub)
        der = openssl("x509", "-outform", "DER", input=body["certificatePem"].encode())
        self.assertEqual(body["certificateId"], hashlib.sha256(der).hexdigest())
        self.assertSeedThing(self.serial, body["certificateId"])

    def test_csr_mode_with_an_openssl_key(self):
        secret = self.enroll()
        key = self.write("device.key", openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256").decode())
        csr = openssl("req", "-new", "-key", key, "-subj", f"/CN={self.serial}").decode()

        body = self.assertRegistered(self.register(secret, csr=csr))

        self.assertNotIn("privateKey", body)
        self.assertVerifies(body["certificatePem"])
        self.assertEqual(openssl("pkey", "-in", key, "-pubout"), openssl("x509", "-noout", "-pubkey", input=body["certificatePem"].encode()))
        self.assertSeedThing(self.serial, body["certificateId"])

    def test_csr_subject_and_extensions_are_the_issuers_not_the_devices(self):
        # Issue 16, defect 4: a device sent /CN=SN-A/O=Evil/OU=admin and got exactly that subject.
        secret = self.enroll()
        key = self.write("evil.key", openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256").decode())
        csr = openssl("req", "-new", "-key", key, "-subj", "/CN=SN-A/O=Evil/OU=admin",
                      "-addext", "subjectAltName=DNS:admin.example.com", "-addext", "basicConstraints=critical,CA:TRUE").decode()

        body = self.assertRegistered(self.register(secret, csr=csr))

        certificate = self.write("evil.crt", body["certificatePem"])
        subject = openssl("x509", "-in", certificate, "-noout", "-subject", "-nameopt", "RFC2253").decode().strip()
        self.assertEqual(subject, f"subject=CN={self.serial}")
        text = openssl("x509", "-in", certificate, "-noout", "-text").decode()
        self.assertNotIn("admin.example.com", text)
        self.assertIn("CA:FALSE", text)
        self.assertVerifies(body["certificatePem"])

    def test_curl_openssl_device_registers_in_both_modes(self):
        for mode in ("key", "csr"):
            with self.subTest(mode=mode):
                serial = f"{self.serial}-{mode}"
                secret = self.enroll(serial)
                out = os.path.join(self.tmp, serial)
                args = ["bash", os.path.join(HERE, "device_register_curl.sh"), self.device_url, serial, secret, out]
                if mode == "csr":
                    key = self.write(f"{mode}.key", openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256").decode())
                    args.append(key)
                result = subprocess.run(args, capture_output=True, text=True, timeout=60)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertEqual(result.stdout.strip(), "200")
                with open(os.path.join(out, "certificate.pem")) as f:
                    certificate = f.read()
                self.assertVerifies(certificate)
                self.assertEqual(os.path.exists(os.path.join(out, "private.key")), mode == "key")
                with open(os.path.join(out, "response.json")) as f:
                    self.assertSeedThing(serial, json.load(f)["certificateId"])

    # ------------------------------------------------------------ 401: one answer, no enumeration

    def test_unknown_wrong_expired_replayed_one_identical_401(self):
        secret = self.enroll()
        now = int(time.time())
        token = sas_token(self.serial, secret, now + 300)
        self.assertRegistered(self.register(authorization=token))
        other = base64.b64encode(os.urandom(32)).decode()

        answers = {
            "unknown serial": self.register(other, serial=self.serial + "-nobody"),
            "wrong secret": self.register(other),
            "expired": self.register(secret, expiry=now - 3600),
            "too far ahead": self.register(secret, expiry=now + 7200),
            "replayed": self.register(authorization=token),
            # (another serial, as before issue 16, when wrong signatures used up the serial's rate)
            "no header": self.register(serial=self.serial + "-other"),
        }
        for case, answer in answers.items():
            with self.subTest(case=case):
                status, headers, body = answer
                self.assertEqual((status, headers.get("x-amzn-errortype"), body), (401, "UnauthorizedException", UNAUTHORIZED))
                self.assertEqual(headers.get("www-authenticate"), "SharedAccessSignature")

    # ------------------------------------------------------------ 403, 409, 400

    def test_disabled_enrollment_403(self):
        secret = self.enroll()
        status, _, raw = fk.signed_request("PATCH", f"/enrollments/{self.serial}", json.dumps({"enabled": False}).encode(), server=self.server)
        self.assertEqual(status, 200, raw)

        self.assertError(self.register(secret), 403, "ForbiddenException", "disabled")
        self.assertEqual(self.iot.list_things(attributeName="serialNumber", attributeValue=self.serial)["things"], [])

    def test_thing_with_active_certificate_409_unless_reprovisioning(self):
        for allow in (False, True):
            with self.subTest(allowReprovisioning=allow):
                serial = f"{self.serial}-{int(allow)}"
                secret = self.enroll(serial, allowReprovisioning=allow)
                old = self.iot.create_keys_and_certificate(setAsActive=True)
                self.iot.create_thing(thingName=serial, thingTypeName="NewDevice")
                self.iot.attach_thing_principal(thingName=serial, principal=old["certificateArn"])

                answer = self.register(secret, serial=serial)

                old_status = self.iot.describe_certificate(certificateId=old["certificateId"])["certificateDescription"]["status"]
                principals = self.iot.list_thing_principals(thingName=serial)["principals"]
                if not allow:
                    self.assertError(answer, 409, "ConflictException", "reprovisioning")
                    self.assertEqual((old_status, principals), ("ACTIVE", [old["certificateArn"]]))
                else:
                    body = self.assertRegistered(answer)
                    self.assertEqual((old_status, principals), ("INACTIVE", [fk.arn("cert", body["certificateId"])]))

    def test_lost_answer_register_again_revokes_the_unused_certificate(self):
        secret = self.enroll()
        first = self.assertRegistered(self.register(secret))
        time.sleep(1.1)  # a new second, so the device's new token is not the first one replayed

        second = self.assertRegistered(self.register(secret))

        self.assertNotEqual(first["certificateId"], second["certificateId"])
        self.assertEqual(self.iot.describe_certificate(certificateId=first["certificateId"])["certificateDescription"]["status"], "REVOKED")
        self.assertSeedThing(self.serial, second["certificateId"])

    @unittest.skipIf(shutil.which("mosquitto_pub") is None and not IN_CI, "mosquitto-clients is not installed")
    def test_certificate_that_connected_is_not_replaced_as_a_lost_answer(self):
        # The broker tells the device endpoint of a certificate's first connection: from then on the
        # certificate is in use, so registering again is a conflict, not a lost answer.
        secret = self.enroll()
        first = self.assertRegistered(self.register(secret))
        self.assertEqual(first["mqtt"]["port"], self.server.mqtt_port)
        cert, key = self.write("mqtt.crt", first["certificatePem"]), self.write("mqtt.key", first["privateKey"])
        os.chmod(key, 0o600)
        ca = self.write("mqtt-ca.pem", first["caCertificatesPem"])
        connected = subprocess.run(
            # The answer's host is --public-host (a name the tests do not resolve); the server
            # certificate also names 127.0.0.1.
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(first["mqtt"]["port"]), "--cafile", ca,
             "--cert", cert, "--key", key, "-i", self.serial, "-t", "hello", "-m", "hi", "-q", "0", "-V", "mqttv5", "-d"],
            capture_output=True, text=True, timeout=30)
        self.assertIn("received CONNACK (0)", connected.stdout + connected.stderr)
        time.sleep(1.5)  # the observer runs after the CONNACK, in the background

        again = self.register(secret)

        self.assertError(again, 409, "ConflictException")
        self.assertEqual(self.iot.describe_certificate(certificateId=first["certificateId"])["certificateDescription"]["status"], "ACTIVE")

    def test_bad_csr_400_with_reason(self):
        secret = self.enroll()
        body = self.assertError(self.register(secret, csr="-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
                                400, "InvalidRequestException", "certificate signing request")
        self.assertGreater(len(body["message"]), len("The certificate signing request is not valid: "))

    def test_invalid_utf8_body_is_a_400_counted_by_the_address_and_audited(self):
        # Issue 16, defect 2: this body answered 500 with a stack trace, 120 in 0.2 s, none limited or audited.
        body = b'{"serialNumber":"\xff"}'
        headers = {"Content-Type": "application/json", "X-Forwarded-For": self.address,
                   "Authorization": "SharedAccessSignature sr=SN-X&se=1&sig=AAAA"}

        answers = [raw_register(self.device_url, body, headers) for _ in range(61)]

        status, response_headers, text = answers[0]
        self.assertEqual((status, response_headers.get("x-amzn-errortype")), (400, "InvalidRequestException"), text)
        self.assertIn("UTF-8", json.loads(text)["message"])
        self.assertEqual([a[0] for a in answers], [400] * 60 + [429])
        self.assertEqual(answers[-1][1].get("x-amzn-errortype"), "TooManyRequestsException")
        self.assertTrue(answers[-1][1].get("retry-after"))
        rows = self.audit("source_address = ?", self.address)
        self.assertEqual([r[0] for r in rows], ["invalid"] * 60 + ["throttled"])
        # One log line per request, and no stack trace anywhere.
        self.assertEqual(len(self.log_lines_once(f" from {self.address} ", 61)), 61)
        self.assertEqual(self.log_lines("   at Fleetkey."), [])
        self.assertEqual(self.log_lines("InternalError"), [])
        # And counted on /metrics (the control-plane listener), by outcome and, when throttled, by limit.
        with urllib.request.urlopen(self.server.endpoint + "/metrics", timeout=10) as r:
            metrics = [line for line in r.read().decode().splitlines() if line.startswith("fleetkey_device_attempts_total{")]
        counted = lambda *labels: sum(float(line.rsplit(" ", 2)[1] if line.count(" ") > 1 else line.split(" ")[1])
                                      for line in metrics if all(label in line for label in labels))
        self.assertGreaterEqual(counted('outcome="invalid"'), 60, metrics)
        self.assertGreaterEqual(counted('outcome="throttled"', 'limit="address"'), 1, metrics)

    def test_hostile_bodies_are_4xx_counted_and_audited(self):
        secret = self.enroll()
        token = sas_token(self.serial, secret, int(time.time()) + 600)
        json_type = "application/json"
        cases = {
            "escaped lone surrogate": (b'{"serialNumber":"\\ud800"}', json_type, False, "surrogate"),
            "invalid UTF-8 in a key": (b'{"\xc3":1,"serialNumber":"x"}', json_type, False, "UTF-8"),
            "duplicate key": (json.dumps({"serialNumber": self.serial}).encode()[:-1] + b',"serialNumber":"SN-other"}', json_type, False, "twice"),
            "deep": (b"[" * 100_00 + b"]" * 100_00, json_type, False, "malformed"),
            "wrong types": (b'{"serialNumber":1,"csr":{},"parameters":[]}', json_type, False, "must be"),
            "chunked, no length, 1 MB": ((b"x" * 65536 for _ in range(16)), json_type, True, "larger than"),
            "text/plain": (json.dumps({"serialNumber": self.serial}).encode(), "text/plain", False, "Content-Type"),
            "form (curl -d, urllib's default)": (json.dumps({"serialNumber": self.serial}).encode(), "application/x-www-form-urlencoded", False, "Content-Type"),
        }
        for name, (body, content_type, chunked, expected) in cases.items():
            with self.subTest(case=name):
                headers = {"Content-Type": content_type, "X-Forwarded-For": self.address, "Authorization": token}
                status, response_headers, text = raw_register(self.device_url, body, headers, chunked=chunked)
                self.assertEqual((status, response_headers.get("x-amzn-errortype")), (400, "InvalidRequestException"), text[:300])
                self.assertIn(expected, json.loads(text)["message"])
        rows = self.audit("source_address = ?", self.address)
        self.assertEqual(rows, [("invalid", rows[i][1], 0) for i in range(len(cases))])
        self.assertEqual(self.log_lines("   at Fleetkey."), [])
        # Nothing else was written: the device registers as if none of that had happened.
        self.assertRegistered(self.register(secret))

    def test_bad_bodies_400(self):
        secret = self.enroll()
        token = sas_token(self.serial, secret, int(time.time()) + 600)
        self.assertError(self.register(authorization=token, raw_body=b"not json"), 400, "InvalidRequestException", "JSON")
        self.assertError(self.register(authorization=token, raw_body=json.dumps({"serialNumber": self.serial, "extra": 1}).encode()),
                         400, "InvalidRequestException", "extra")
        self.assertError(self.register(authorization=token, raw_body=b"{\"serialNumber\":\"" + b"x" * 70000 + b"\"}"),
                         400, "InvalidRequestException", "larger than")
        self.assertError(self.register(secret, parameters={"Undeclared": "x"}), 400, "InvalidRequestException", "Undeclared")

    # ------------------------------------------------------------ 429

    def test_wrong_signatures_do_not_lock_the_device_out(self):
        # Issue 16, defect 3: five requests with random signatures for a serial, then the real device
        # with a correct SAS, answered 429 with Retry-After 3600. Unauthenticated failures count per
        # source address only.
        secret = self.enroll()
        statuses = [self.register(base64.b64encode(os.urandom(32)).decode(), forwarded_for=f"203.0.113.{i % 250 + 1}")[0]
                    for i in range(100)]
        self.assertEqual(statuses, [401] * 100)

        body = self.assertRegistered(self.register(secret))

        self.assertEqual(body["thingName"], self.serial)
        rows = self.audit("serial_number = ?", self.serial)
        self.assertEqual(len(rows), 101)
        self.assertEqual(sorted((o, a) for o, _, a in rows), [("registered", 1)] + [("unauthorized", 0)] * 100)

    def test_sixth_authenticated_attempt_in_an_hour_hits_429(self):
        # The per-serial limit counts what only the device can do: attempts whose signature verified
        # (here each is refused after authentication, as a misbehaving device's would be).
        secret = self.enroll()
        expiry = int(time.time()) + 600
        statuses = []
        retry_after = None
        for i in range(7):
            status, headers, _ = self.register(secret, parameters={"Undeclared": "x"}, expiry=expiry + i,
                                               forwarded_for=f"192.0.2.{i + 1}")
            statuses.append(status)
            if status == 429:
                retry_after = retry_after or headers.get("retry-after")
                self.assertEqual(headers.get("x-amzn-errortype"), "TooManyRequestsException")
        self.assertEqual(statuses, [400] * 5 + [429] * 2)
        self.assertTrue(retry_after and 3000 < int(retry_after) <= 3600, retry_after)
        rows = self.audit("serial_number = ?", self.serial)
        self.assertEqual([(o, a) for o, _, a in rows], [("invalid", 1)] * 5 + [("throttled", 0)] * 2)

    def test_one_address_over_60_a_minute_hits_429(self):
        statuses = [self.register(base64.b64encode(os.urandom(32)).decode(), serial=f"{self.serial}-{i}")[0] for i in range(61)]

        self.assertEqual(statuses, [401] * 60 + [429])
        # Another address is not held back.
        self.assertEqual(self.register(base64.b64encode(os.urandom(32)).decode(), forwarded_for="192.0.2.200")[0], 401)

    # ------------------------------------------------------------ the listeners

    def test_device_listener_serves_only_the_device_routes(self):
        for method, path in [("GET", "/things"), ("POST", "/things/x"), ("GET", "/ca.pem"), ("GET", "/metrics"),
                             ("POST", "/enrollments/x"), ("GET", "/provisioning-templates")]:
            with self.subTest(path=path):
                request = urllib.request.Request(self.device_url + path, data=b"{}" if method == "POST" else None, method=method)
                with self.assertRaises(urllib.error.HTTPError) as caught:
                    urllib.request.urlopen(request, timeout=10)
                self.assertEqual(caught.exception.code, 404)
        with urllib.request.urlopen(self.device_url + "/health", timeout=10) as r:
            self.assertEqual(r.status, 200)
        # And the control plane does not serve the device route.
        status, _, _ = fk.signed_request("POST", "/device/register", b"{}", server=self.server)
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
