"""Enrollments (issue 7): Fleetkey's own control-plane routes, not in the AWS IoT model, so boto3 has
no methods for them. Requests are signed exactly as boto3 signs (botocore.auth.SigV4Auth, through
fleetkey_server.signed_request) and errors must come back in the AWS format (x-amzn-ErrorType and a
JSON {"message"}), like every other route. Templates are stored with boto3's
create_provisioning_template. Also: `fleetkey enrollments derive` against Python's hmac, and
`fleetkey enrollments import` against the running server's data directory.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse

from compat_base import CompatTestCase
import fleetkey_server as fk

ROLE_ARN = "arn:aws:iam::000000000000:role/FleetkeyProvisioning"
TEMPLATE_BODY = json.dumps({
    "Parameters": {"SerialNumber": {"Type": "String"}, "ThingName": {"Type": "String"}},
    "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "ThingName"}}}},
})


def call(method, path, body=None, **kwargs):
    """A signed request; returns (status, x-amzn-ErrorType, parsed JSON body or None)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    status, headers, raw = fk.signed_request(method, path, data, **kwargs)
    return status, headers.get("x-amzn-errortype"), (json.loads(raw) if raw else None)


def fleetkey(*args, env=None):
    return subprocess.run(["dotnet", fk.dll_path(), *args], capture_output=True, text=True, timeout=300,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_ROOT_")}, **(env or {})})


class EnrollmentTestCase(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = fk.unique("tpl")
        cls.other_template = fk.unique("tpl2")
        for name in (cls.template, cls.other_template):
            cls.iot.create_provisioning_template(templateName=name, templateBody=TEMPLATE_BODY,
                                                 provisioningRoleArn=ROLE_ARN, enabled=True)

    def ok(self, method, path, body=None):
        status, error, parsed = call(method, path, body)
        self.assertEqual(status, 200, f"{method} {path}: {error} {parsed}")
        return parsed

    def assertError(self, method, path, body, code, status, *message_parts):
        got_status, error, parsed = call(method, path, body)
        self.assertEqual((got_status, error), (status, code), f"{method} {path}: {parsed}")
        # rest-json error body: a JSON object with "message", as botocore parses it.
        self.assertIsInstance(parsed, dict)
        self.assertIn("message", parsed)
        for part in message_parts:
            self.assertIn(part, parsed["message"])
        return parsed

    def secret_seen(self, value):
        # The shutdown test checks that no secret the server handed out appears in its log.
        fk.SECRETS_SEEN.append(value)
        return value


class EnrollmentGroupTests(EnrollmentTestCase):

    def test_group_lifecycle_key_only_at_creation(self):
        name = self.name("g")
        created = self.ok("POST", f"/enrollment-groups/{name}", {
            "templateName": self.template, "serialNumberPattern": "SN-[0-9]{4}",
            "allowReprovisioning": True, "parameters": {"Site": "plant-1"}})
        self.assertEqual(set(created), {"enrollmentGroupName", "enrollmentGroupArn", "groupKey"})
        self.assertEqual(created["enrollmentGroupName"], name)
        self.assertEqual(created["enrollmentGroupArn"], fk.arn("enrollmentgroup", name))
        key = self.secret_seen(created["groupKey"])
        self.assertEqual(len(base64.b64decode(key, validate=True)), 32)

        described = self.ok("GET", f"/enrollment-groups/{name}")
        self.assertNotIn("groupKey", described)
        self.assertNotIn(key, json.dumps(described))
        self.assertEqual(described["templateName"], self.template)
        self.assertEqual(described["serialNumberPattern"], "SN-[0-9]{4}")
        self.assertEqual((described["allowReprovisioning"], described["enabled"]), (True, True))
        self.assertEqual(described["parameters"], {"Site": "plant-1"})
        self.assertIsInstance(described["creationDate"], (int, float))
        self.assertLess(abs(described["creationDate"] - described["lastModifiedDate"]), 1)

        patched = self.ok("PATCH", f"/enrollment-groups/{name}", {
            "enabled": False, "templateName": self.other_template, "serialNumberPattern": None, "parameters": {}})
        self.assertEqual((patched["enabled"], patched["templateName"], patched["parameters"]), (False, self.other_template, {}))
        self.assertNotIn("serialNumberPattern", patched)
        self.assertTrue(patched["allowReprovisioning"], "fields not in the PATCH stay as they were")
        self.assertEqual(self.ok("GET", f"/enrollment-groups/{name}")["enabled"], False)

        self.assertEqual(self.ok("DELETE", f"/enrollment-groups/{name}"), {})
        self.assertError("GET", f"/enrollment-groups/{name}", None, "ResourceNotFoundException", 404,
                         f"Enrollment group {name} does not exist.")

    def test_group_derive_matches_python_hmac(self):
        name = self.name("g")
        key = self.secret_seen(self.ok("POST", f"/enrollment-groups/{name}", {"templateName": self.template})["groupKey"])
        serials = ["SN-0001", f"{self.prefix}:dev_1"]

        result = fleetkey("enrollments", "derive", "--group-key", key, *serials)

        self.assertEqual(result.returncode, 0, result.stderr)
        expected = [f"{s},{base64.b64encode(hmac.new(base64.b64decode(key), s.encode(), hashlib.sha256).digest()).decode()}"
                    for s in serials]
        self.assertEqual(result.stdout.split(), expected)

    def test_group_errors(self):
        name = self.name("g")
        self.ok("POST", f"/enrollment-groups/{name}", {"templateName": self.template})
        self.assertError("POST", f"/enrollment-groups/{name}", {"templateName": self.template},
                         "ResourceAlreadyExistsException", 409, name)
        self.assertError("POST", f"/enrollment-groups/{self.name('x')}", {"templateName": self.name("missing")[:36]},
                         "ResourceNotFoundException", 404, "does not exist")
        parsed = self.assertError("POST", "/enrollment-groups/" + urllib.parse.quote("bad name"),
                                  {"serialNumberPattern": "SN-(", "parameters": {"ThingName": "x"}},
                                  "InvalidRequestException", 400, "4 validation errors")
        for field in ("'enrollmentGroupName'", "'templateName'", "'serialNumberPattern'", "'parameters'"):
            self.assertIn(field, parsed["message"])
        self.assertError("POST", f"/enrollment-groups/{self.name('y')}", {"templateName": self.template, "serialNumberPattern": "(a)\\1"},
                         "InvalidRequestException", 400, "'serialNumberPattern'")
        self.assertError("POST", f"/enrollment-groups/{self.name('y')}", {"templateName": self.template, "pattern": "x"},
                         "InvalidRequestException", 400, "'pattern' is not a member")
        self.assertError("POST", f"/enrollment-groups/{self.name('y')}", b'{"templateName": ',
                         "InvalidRequestException", 400, "not valid JSON")
        self.assertError("PATCH", f"/enrollment-groups/{name}", {"enabled": "no"},
                         "InvalidRequestException", 400, "'enabled'")
        self.assertError("PATCH", f"/enrollment-groups/{name}", {"templateName": "missing-template"},
                         "ResourceNotFoundException", 404)
        for method in ("GET", "PATCH", "DELETE"):
            self.assertError(method, f"/enrollment-groups/{self.name('nope')}", {} if method == "PATCH" else None,
                             "ResourceNotFoundException", 404)
        self.assertError("PUT", f"/enrollment-groups/{name}", {}, "UnknownOperationException", 404)


class IndividualEnrollmentTests(EnrollmentTestCase):

    def test_enrollment_lifecycle_secret_only_at_creation(self):
        serial = self.name("SN")
        created = self.ok("POST", f"/enrollments/{serial}", {"templateName": self.template, "parameters": {"Line": "2"}})
        self.assertEqual(set(created), {"serialNumber", "enrollmentArn", "deviceSecret"})
        self.assertEqual(created["enrollmentArn"], fk.arn("enrollment", serial))
        secret = self.secret_seen(created["deviceSecret"])
        self.assertEqual(len(base64.b64decode(secret, validate=True)), 32)

        described = self.ok("GET", f"/enrollments/{serial}")
        self.assertNotIn("deviceSecret", described)
        self.assertNotIn(secret, json.dumps(described))
        self.assertEqual((described["serialNumber"], described["templateName"], described["enabled"],
                          described["allowReprovisioning"], described["parameters"]),
                         (serial, self.template, True, False, {"Line": "2"}))

        patched = self.ok("PATCH", f"/enrollments/{serial}", {"allowReprovisioning": True, "enabled": False})
        self.assertEqual((patched["allowReprovisioning"], patched["enabled"], patched["parameters"]), (True, False, {"Line": "2"}))

        self.assertEqual(self.ok("DELETE", f"/enrollments/{serial}"), {})
        self.assertError("DELETE", f"/enrollments/{serial}", None, "ResourceNotFoundException", 404,
                         f"No enrollment for serial number {serial}.")

    def test_enrollment_errors(self):
        serial = self.name("SN")
        self.ok("POST", f"/enrollments/{serial}", {"templateName": self.template})
        self.assertError("POST", f"/enrollments/{serial}", {"templateName": self.template},
                         "ResourceAlreadyExistsException", 409)
        self.assertError("POST", f"/enrollments/{self.name('x')}", {"templateName": "no-such-template"},
                         "ResourceNotFoundException", 404)
        self.assertError("POST", f"/enrollments/{'s' * 129}", {"templateName": self.template},
                         "InvalidRequestException", 400, "'serialNumber'")
        self.assertError("POST", f"/enrollments/{self.name('y')}", {"templateName": self.template, "serialNumberPattern": "x"},
                         "InvalidRequestException", 400, "'serialNumberPattern' is not a member")
        self.assertError("POST", f"/enrollments/{self.name('y')}", {"templateName": 5, "allowReprovisioning": "yes"},
                         "InvalidRequestException", 400, "'templateName'", "'allowReprovisioning'")
        self.assertError("POST", f"/enrollments/{self.name('y')}", None, "InvalidRequestException", 400, "'templateName'")
        for method in ("GET", "PATCH", "DELETE"):
            self.assertError(method, f"/enrollments/{self.name('nope')}", {} if method == "PATCH" else None,
                             "ResourceNotFoundException", 404)

    def test_authentication_as_every_control_plane_route(self):
        serial = self.name("SN")
        status, error, _ = call("POST", f"/enrollments/{serial}", {"templateName": self.template}, sign=False)
        self.assertEqual((status, error), (403, "MissingAuthenticationTokenException"))
        status, error, _ = call("GET", "/enrollments", secret_access_key="0" * 40)
        self.assertEqual((status, error), (403, "InvalidSignatureException"))
        status, error, _ = call("GET", "/enrollment-groups", access_key_id="AKIDUNKNOWNFLEETKEY0", secret_access_key="0" * 40)
        self.assertEqual((status, error), (403, "UnrecognizedClientException"))
        self.assertError("GET", f"/enrollments/{serial}", None, "ResourceNotFoundException", 404)

    def test_lists_page_with_max_results_and_next_token(self):
        serials = [self.name(f"SN{i}") for i in range(3)]
        groups = [self.name(f"g{i}") for i in range(3)]
        for serial, group in zip(serials, groups):
            self.ok("POST", f"/enrollments/{serial}", {"templateName": self.template})
            self.ok("POST", f"/enrollment-groups/{group}", {"templateName": self.template})

        def walk(path, items, key):
            seen, token = [], None
            while True:
                query = {"maxResults": "2", **({"nextToken": token} if token else {})}
                page = self.ok("GET", f"{path}?{urllib.parse.urlencode(query)}")
                self.assertLessEqual(len(page[items]), 2)
                for item in page[items]:
                    self.assertFalse({"groupKey", "deviceSecret"} & set(item))
                seen += [item[key] for item in page[items]]
                token = page.get("nextToken")
                if not token:
                    return seen

        listed = walk("/enrollments", "enrollments", "serialNumber")
        self.assertEqual([s for s in listed if s in serials], sorted(serials))
        self.assertEqual(len(listed), len(set(listed)))
        listed = walk("/enrollment-groups", "enrollmentGroups", "enrollmentGroupName")
        self.assertEqual([g for g in listed if g in groups], sorted(groups))
        self.assertError("GET", "/enrollments?maxResults=0", None, "InvalidRequestException", 400, "'maxResults'")
        self.assertError("GET", "/enrollment-groups?maxResults=many", None, "InvalidRequestException", 400, "'maxResults'")
        self.assertError("GET", "/enrollments?nextToken=not-a-token", None, "InvalidRequestException", 400, "nextToken")


class EnrollmentImportTests(EnrollmentTestCase):

    def setUp(self):
        super().setUp()
        if not isinstance(self.server, fk.FleetkeyServer):
            self.skipTest("needs the server's data directory (FLEETKEY_ENDPOINT names an outside server)")
        self.work = tempfile.mkdtemp(prefix="fleetkey-enroll-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def store_args(self):
        args = ["--data", self.server.data_dir]
        if self.server.database:
            args += ["--database", self.server.database]
        return args

    def test_import_csv_into_running_server_refuses_a_file_with_bad_lines_then_imports_it_fixed(self):
        # Issue 16: the whole file is checked before anything is written; a bad line refuses it.
        given = base64.b64encode(bytes(range(32))).decode()
        good = [self.name("SN1"), self.name("SN2")]
        csv = os.path.join(self.work, "run.csv")
        with open(csv, "w") as f:
            f.write(f"serial,secret\n{good[0]}\n{good[1]},{given}\nnot valid!\n{good[0]}\n")
        secrets_out = os.path.join(self.work, "secrets.csv")

        result = fleetkey("enrollments", "import", csv, "--template", self.template, "--secrets-out", secrets_out, *self.store_args())

        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("2 bad lines of 4; nothing was imported", result.stdout)
        self.assertIn("line 4: invalid serial number", result.stderr)
        self.assertIn(f"line 5: serial number {good[0]} is repeated (first on line 2)", result.stderr)
        self.assertNotIn(given, result.stdout + result.stderr)
        self.assertFalse(os.path.exists(secrets_out), "nothing imported, no secrets file")
        for serial in good:
            self.assertError("GET", f"/enrollments/{serial}", None, "ResourceNotFoundException", 404)

        with open(csv, "w") as f:
            f.write(f"serial,secret\n{good[0]}\n{good[1]},{given}\n")
        result = fleetkey("enrollments", "import", csv, "--template", self.template, "--secrets-out", secrets_out, *self.store_args())

        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("Imported 2 enrollments (0 already enrolled, 0 failed)", result.stdout)
        self.assertEqual(os.stat(secrets_out).st_mode & 0o777, 0o600)
        with open(secrets_out) as f:
            rows = [line.strip().split(",") for line in f][1:]
        self.assertEqual([r[0] for r in rows], [good[0]])
        self.secret_seen(rows[0][1])
        for serial in good:
            described = self.ok("GET", f"/enrollments/{serial}")
            self.assertEqual(described["templateName"], self.template)
        self.assertError("GET", "/enrollments/" + urllib.parse.quote("not valid!"), None, "InvalidRequestException", 400)

    def test_import_csv_not_utf8_is_refused_with_its_line_and_imports_nothing(self):
        # Issue 16: a spreadsheet saved as Latin-1 (invalid UTF-8) was read with replacement characters.
        serials = [self.name("U1"), self.name("U2")]
        csv = os.path.join(self.work, "latin1.csv")
        with open(csv, "wb") as f:
            f.write(f"{serials[0]}\n".encode() + b"# Gr\xfc\xdfe aus der Fabrik\n" + f"{serials[1]}\n".encode() + b"SN-Gr\xfcn\n")

        result = fleetkey("enrollments", "import", csv, "--template", self.template, *self.store_args())

        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("line 2: the line is not valid UTF-8", result.stderr)
        self.assertIn("line 4: the line is not valid UTF-8", result.stderr)
        self.assertIn("nothing was imported", result.stdout)
        self.assertNotIn("Unhandled exception", result.stderr)
        for serial in serials:
            self.assertError("GET", f"/enrollments/{serial}", None, "ResourceNotFoundException", 404)
