"""Expiry tracking (issue 19) with the real `fleetkey` executable beside a running server: certificates
registered with boto3 (RegisterCertificateWithoutCA, made by openssl with a chosen lifetime), then listed
by `fleetkey certificates expiring` on the server's own data directory (or database) and by the control
plane's `GET /expiring-certificates` (Fleetkey's own route, signed raw: no SDK models it). The shared
server holds other tests' certificates too, so only this test's are compared, in their order.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse

from compat_base import CompatTestCase
import fleetkey_server as fk
from test_certificates import openssl

NO_STACK_TRACE = r"(?m)^\s+at |Unhandled exception"


def fleetkey(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_")}
    return subprocess.run(["dotnet", fk.dll_path(), *args], capture_output=True, text=True, timeout=120, env=env)


class ExpiryTests(CompatTestCase):

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix="fleetkey-expiry-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def leaf(self, days: int) -> str:
        """A self-signed EC leaf (CA:FALSE) valid for `days` days from now, as PEM."""
        base = os.path.join(self.work, f"leaf{days}")
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", base + ".key")
        openssl("req", "-x509", "-new", "-key", base + ".key", "-sha256", "-days", str(days), "-subj", f"/CN={self.name(str(days))}",
                "-addext", "basicConstraints=critical,CA:FALSE", "-out", base + ".crt")
        with open(base + ".crt") as f:
            return f.read()

    def register(self, days: int) -> str:
        return self.iot.register_certificate_without_ca(certificatePem=self.leaf(days), status="ACTIVE")["certificateId"]

    def store_args(self) -> list[str]:
        server = self.server
        if not isinstance(server, fk.FleetkeyServer):
            self.skipTest("needs the server's data directory (FLEETKEY_ENDPOINT names a server of its own)")
        return ["--data", server.data_dir, *(["--database", server.database] if server.database else [])]

    def test_cli_and_route_list_what_expires_within_the_window_soonest_first(self):
        store = self.store_args()
        later, soon, beyond = self.register(20), self.register(3), self.register(40)
        thing = self.name("pump")
        self.iot.create_thing(thingName=thing)
        self.iot.attach_thing_principal(thingName=thing, principal=fk.arn("cert", later))
        ours = {later, soon, beyond}

        # The command, beside the running server, on its store.
        listed = fleetkey("certificates", "expiring", *store, "--within", "30d", "--json")
        self.assertEqual((listed.returncode, listed.stderr), (0, ""))
        document = json.loads(listed.stdout)
        self.assertEqual(document["within"], "30d")
        mine = [c for c in document["certificates"] if c["certificateId"] in ours]
        self.assertEqual([c["certificateId"] for c in mine], [soon, later])
        self.assertEqual(mine[1]["thingNames"], [thing])
        self.assertEqual([c["status"] for c in mine], ["ACTIVE", "ACTIVE"])
        self.assertIsNone(mine[0]["caCertificateId"])

        lines = fleetkey("certificates", "expiring", *store, "--within", "60d").stdout.splitlines()
        mine = [line.split("\t") for line in lines if line.split("\t")[0] in ours]
        self.assertEqual([fields[0] for fields in mine], [soon, later, beyond])
        self.assertEqual(mine[1][3], thing)

        # The route, walking its pages.
        walked, token = [], None
        while True:
            query = {"within": "30d", "maxResults": "1", **({"nextToken": token} if token else {})}
            status, _, body = fk.signed_request("GET", "/expiring-certificates?" + urllib.parse.urlencode(query))
            self.assertEqual(status, 200, body)
            page = json.loads(body)
            walked += [c["certificateId"] for c in page["certificates"] if c["certificateId"] in ours]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(walked, [soon, later])

        status, headers, body = fk.signed_request("GET", "/expiring-certificates?within=30x")
        self.assertEqual((status, headers.get("x-amzn-errortype")), (400, "InvalidRequestException"), body)
        self.assertIn("within must be a whole number of days, hours or minutes", json.loads(body)["message"])

    def test_cli_refuses_a_bad_window_and_a_missing_fleet_with_one_line(self):
        for args, line in (
            (["--within", "30"], "fleetkey: --within must be a whole number of days, hours or minutes such as 30d, 12h or 90m, from 1m to 3650d, not '30'."),
            (["--status", "EXPIRED"], "fleetkey: --status must name statuses among ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, "
                                      "REGISTER_INACTIVE, PENDING_ACTIVATION, not 'EXPIRED'."),
        ):
            with self.subTest(args=args):
                result = fleetkey("certificates", "expiring", "--data", self.work, *args)
                self.assertNotRegex(result.stderr, NO_STACK_TRACE)
                self.assertEqual((result.returncode, result.stderr.splitlines(), result.stdout), (2, [line], ""))

        missing = os.path.join(self.work, "no-fleet")
        result = fleetkey("certificates", "expiring", "--data", missing)
        self.assertEqual((result.returncode, result.stderr.splitlines()),
                         (2, [f"fleetkey: no fleet at {missing} (run `fleetkey serve` first or pass --data)"]))
        self.assertFalse(os.path.exists(missing))


if __name__ == "__main__":
    unittest.main()
