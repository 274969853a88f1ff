"""Issue 16: hostile input on the control-plane wire, sent as raw bytes over a real socket.

Every request here is signed as an SDK would sign it (SigV4 over the exact bytes on the wire), so it
reaches the request binder; what it carries is what no SDK would send: duplicate JSON keys, bytes that
are not UTF-8, lone surrogate escapes, percent-escapes that are not UTF-8, U+0000, out-of-range numbers.
The property throughout: a 4xx in AWS's error shape, never a 5xx, and nothing written.

Page tokens (defect 9): a token is bound to the operation and its filters, cannot be altered or forged,
and outlives a restart of the server.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from compat_base import CompatTestCase
import fleetkey_server as fk

MARKER_PATTERN = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")  # the model's Marker shape (max 1024)
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})


def _quote(raw: bytes) -> str:
    return "".join(chr(b) if chr(b).isalnum() and b < 0x80 or chr(b) in "-_.~" else f"%{b:02X}" for b in raw)


def raw_request(method: str, target: str, body: bytes = b"", headers: dict | None = None, server=None,
                sign: bool = True):
    """Sends `target` (path and query exactly as given, bytes outside ASCII included) with http.client.

    The signature follows the SigV4 specification over the wire form, as AWS's front door computes it:
    the path is encoded once more (non-S3 services), query names and values are percent-decoded to bytes
    and re-encoded. Returns (status, lower-cased headers, body bytes).
    """
    server = server or fk.shared()
    host_port = server.endpoint.split("://", 1)[1]
    path, _, query = target.partition("?")
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    hdrs = {"Host": host_port, "X-Amz-Date": amz_date, **(headers or {})}
    if body:
        hdrs.setdefault("Content-Type", "application/json")
    if sign:
        segments = [s for s in path.split("/") if s not in ("", ".")]
        canonical_path = "/" + "/".join(_quote(s.encode("utf-8", "surrogateescape")) for s in segments)
        pairs = []
        for pair in query.split("&") if query else []:
            name, _, value = pair.partition("=")
            pairs.append((_quote(urllib.parse.unquote_to_bytes(name.encode("utf-8", "surrogateescape"))),
                          _quote(urllib.parse.unquote_to_bytes(value.encode("utf-8", "surrogateescape")))))
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
        signed = sorted(k.lower() for k in hdrs if k.lower() in ("host", "x-amz-date"))
        canonical_headers = "".join(f"{k}:{hdrs[next(h for h in hdrs if h.lower() == k)].strip()}\n" for k in signed)
        payload_hash = hashlib.sha256(body).hexdigest()
        canonical = "\n".join([method, canonical_path, canonical_query, canonical_headers, ";".join(signed), payload_hash])
        scope = f"{amz_date[:8]}/{fk.REGION}/iot/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + server.secret_access_key).encode()
        for part in (amz_date[:8], fk.REGION, "iot", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        fk.SIGNATURES_SENT.append(signature)
        hdrs["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={server.access_key_id}/{scope}, "
                                 f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    # http.client refuses bytes outside ASCII on the request line: write the request by hand.
    head = f"{method} ".encode() + target.encode("utf-8", "surrogateescape") + b" HTTP/1.1\r\n"
    for k, v in {**hdrs, "Content-Length": str(len(body)), "Connection": "close"}.items():
        head += k.encode() + b": " + v.encode("utf-8", "surrogateescape") + b"\r\n"
    host, port = host_port.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + b"\r\n" + body)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


class HostileWireTestCase(CompatTestCase):

    def assertRefused(self, response, code: str = "InvalidRequestException", status: int = 400, contains: str | None = None):
        got_status, headers, body = response
        self.assertEqual(got_status, status, body[:400])
        self.assertRegex(headers.get("x-amzn-errortype", ""), rf"^{code}(:.*)?$", body[:400])
        self.assertTrue(headers.get("x-amzn-requestid"))
        message = json.loads(body)["message"]
        if contains is not None:
            self.assertIn(contains, message)
        return message


class MalformedJsonTests(HostileWireTestCase):
    """Defect 6: these answered 500 InternalFailureException (with a stack trace in the log)."""

    def test_duplicate_key_is_invalid_request_and_creates_nothing(self):
        name = self.name("tt")
        body = json.dumps({"thingTypeProperties": {"thingTypeDescription": "a"}})[:-1].encode()
        body += b', "thingTypeProperties": {"thingTypeDescription": "b"}}'
        self.assertRefused(raw_request("POST", f"/thing-types/{name}", body), contains="twice")
        # The issue's own probe: a member twice at the top level.
        self.assertRefused(raw_request("POST", f"/thing-types/{name}", b'{"thingTypeName":"a","thingTypeName":"b"}'),
                           contains="twice")
        self.assertClientError(self.iot.describe_thing_type, "ResourceNotFoundException", 404, thingTypeName=name)

    def test_invalid_utf8_in_a_string_is_invalid_request(self):
        name = self.name("tt")
        self.assertRefused(
            raw_request("POST", f"/thing-types/{name}", b'{"thingTypeProperties":{"thingTypeDescription":"\xff"}}'),
            contains="UTF-8")
        self.assertRefused(
            raw_request("POST", f"/things/{self.name('t')}", b'{"attributePayload":{"attributes":{"a":"\xc3"}}}'),
            contains="UTF-8")
        self.assertClientError(self.iot.describe_thing_type, "ResourceNotFoundException", 404, thingTypeName=name)

    def test_lone_surrogate_escape_is_invalid_request(self):
        thing = self.name("t")
        for body in (b'{"attributePayload":{"attributes":{"a":"\\ud800"}}}',
                     b'{"attributePayload":{"attributes":{"\\udc00":"x"}}}'):
            with self.subTest(body=body):
                self.assertRefused(raw_request("POST", f"/things/{thing}", body), contains="surrogate")
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=thing)

    def test_fleetkey_routes_read_json_as_strictly(self):
        # Enrollments are Fleetkey's own routes (ExtensionRequest): the duplicate used to win silently and
        # invalid UTF-8 answered 500.
        group = self.name("g")
        for body in (b'{"templateName":"a","templateName":"b"}', b'{"templateName":"\xff"}',
                     b'{"templateName":"\\udfff"}', b'{"templateName":"t"} x'):
            with self.subTest(body=body):
                self.assertRefused(raw_request("POST", f"/enrollment-groups/{group}", body))
        status, _, _ = raw_request("GET", f"/enrollment-groups/{group}")
        self.assertEqual(status, 404)

    def test_null_character_is_refused_before_the_store(self):
        # PostgreSQL cannot hold U+0000 in text; an enrollment's parameters have no pattern to stop it.
        template = "tpl-" + fk.RUN_ID + "-" + self.prefix[-8:]  # template names are at most 36 characters
        self.iot.create_provisioning_template(
            templateName=template, provisioningRoleArn="arn:aws:iam::000000000000:role/r", enabled=True,
            templateBody=json.dumps({"Parameters": {"SerialNumber": {"Type": "String"}}, "Resources": {
                "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "SerialNumber"}}}}}))
        group = self.name("g")
        body = json.dumps({"templateName": template, "parameters": {"a": "x\u0000y"}}).encode()
        self.assertRefused(raw_request("POST", f"/enrollment-groups/{group}", body), contains="null character")
        body = json.dumps({"attributePayload": {"attributes": {"a": "x"}}, "thingTypeName": "a\u0000"}).encode()
        self.assertRefused(raw_request("POST", f"/things/{self.name('t')}", body))

    def test_documents_inside_strings_are_read_as_strictly(self):
        # A policy document or template body is JSON inside a JSON string: its lone surrogate escapes answered 500.
        bad_policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"\\ud800"}]}'
        self.assertRefused(raw_request("POST", f"/policies/{self.name('p')}", json.dumps({"policyDocument": bad_policy}).encode()),
                           code="MalformedPolicyException", contains="surrogate")
        bad_template = '{"Resources":{"t":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":"\\ud800"}}}}'
        self.assertRefused(raw_request("POST", "/provisioning-templates", json.dumps({
            "templateName": "tpl-" + fk.RUN_ID + "-" + self.prefix[-8:], "templateBody": bad_template,
            "provisioningRoleArn": "arn:aws:iam::000000000000:role/r"}).encode()), contains="surrogate")
        self.assertRefused(raw_request("POST", "/things", json.dumps({"templateBody": bad_template, "parameters": {}}).encode()),
                           contains="surrogate")

    def test_wrong_json_types_and_ranges_are_invalid_request(self):
        thing = self.name("t")
        cases = [
            b'[]', b'"x"', b'1', b'null',
            b'{"attributePayload": []}', b'{"attributePayload": "x"}', b'{"attributePayload": {"attributes": {"a": null}}}',
            b'{"attributePayload": {"merge": "yes"}}', b'{"thingTypeName": 5}', b'{"thingTypeName": ["a"]}',
            b'{"thingTypeName": {"a": 1}}', b'{"thingTypeName": true}',
        ]
        for body in cases:
            with self.subTest(body=body):
                self.assertRefused(raw_request("POST", f"/things/{thing}", body))
        for body in (b'{"expectedVersion": 1e400}', b'{"expectedVersion": 1.5}', b'{"expectedVersion": "1"}',
                     b'{"expectedVersion": 99999999999999999999999}'):
            with self.subTest(body=body):
                self.assertRefused(raw_request("PATCH", f"/things/{thing}", body))
        # An integer of the model is 32 bits: a larger one is refused, not a 500 from the contract.
        for query in ("maxResults=4294967297", "maxResults=-1", "maxResults=1e3", "maxResults=",
                      "maxResults=99999999999999999999"):
            with self.subTest(query=query):
                self.assertRefused(raw_request("GET", f"/things?{query}"))
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=thing)

    def test_other_content_types_and_bodies_on_get_are_client_errors_or_ignored(self):
        thing = self.name("t")
        for content_type, body in (("application/x-www-form-urlencoded", b"thingTypeName=a"), ("text/plain", b"hello"),
                                   ("application/json; charset=latin-1", b'{"thingTypeName":"caf\xe9"}'),
                                   ("application/octet-stream", bytes(range(256)))):
            with self.subTest(content_type=content_type):
                self.assertRefused(raw_request("POST", f"/things/{thing}", body, headers={"Content-Type": content_type}))
        # A body on an operation without body members is not read (the SDKs send none; AWS ignores one).
        status, _, body = raw_request("GET", f"/things?maxResults=1", b'{"a":1,"a":"\xff"}')
        self.assertEqual(status, 200, body[:300])

    def test_deep_and_huge_bodies_are_client_errors(self):
        thing = self.name("t")
        deep = b'{"attributePayload":' + b'[' * 5000 + b']' * 5000 + b'}'
        self.assertRefused(raw_request("POST", f"/things/{thing}", deep))
        # 200,000 invalid items: the message lists a hundred and counts the rest, it does not grow with them.
        many = json.dumps({"thingGroupsToAdd": ["!"] * 200_000, "thingName": thing}).encode()
        message = self.assertRefused(raw_request("PUT", "/thing-groups/updateThingGroupsForThing", many))
        self.assertLess(len(message), 64 * 1024)
        # Expect: 100-continue: a server that refuses a body unread may close on a client still writing it.
        status, headers, body = fk.signed_request("POST", f"/things/{thing}", b'{"a":"' + b"x" * (3 * 1024 * 1024) + b'"}', expect_continue=True)
        self.assertIn(status, (400, 413), body[:300])


class HostileTextTests(HostileWireTestCase):

    def test_path_label_that_is_not_utf8_is_invalid_request(self):
        for label in ("%ff", "%C3", "%ED%A0%80", "a%zz", "%"):
            with self.subTest(label=label):
                self.assertRefused(raw_request("GET", f"/things/{label}"), contains="percent-encoded UTF-8")

    def test_query_value_that_is_not_utf8_is_invalid_request(self):
        for query in ("thingTypeName=%ff", "thingTypeName=%C3%28", "nextToken=%ED%A0%80", "attributeName=%"):
            with self.subTest(query=query):
                self.assertRefused(raw_request("GET", f"/things?{query}"), contains="percent-encoded UTF-8")
        # Fleetkey's own routes decode their query the same way.
        self.assertRefused(raw_request("GET", "/enrollments?nextToken=%ff"), contains="percent-encoded UTF-8")

    def test_raw_bytes_in_the_request_target_are_client_errors(self):
        # Bytes outside ASCII straight on the request line: Kestrel or the binder refuses them, never a 5xx.
        for target in ("/things/\udcff", "/things/caf\udcc3\udca9", "/things?thingTypeName=\udcff", "/things/%00"):
            with self.subTest(target=target):
                status, _, body = raw_request("GET", target)
                self.assertGreaterEqual(status, 400, body[:300])
                self.assertLess(status, 500, body[:300])

    def test_odd_header_bytes_are_client_errors(self):
        for value in ("caf\u00e9", "\u00ff\u00fe", "a\tb"):
            with self.subTest(value=value):
                status, _, body = raw_request("GET", "/principals/things", headers={"x-amzn-principal": value})
                self.assertGreaterEqual(status, 400, body[:300])
                self.assertLess(status, 500, body[:300])

    def test_unsigned_hostile_requests_are_client_errors(self):
        for method, target, body in (("POST", "/things/x", b'{"a":"\xff"}'), ("GET", "/things/%ff", b""),
                                     ("GET", "/things?nextToken=%ff", b'{"a":1,"a":2}'),
                                     ("PUT", "/no/such/route", b"\x00\x01")):
            with self.subTest(target=target):
                status, headers, payload = raw_request(method, target, body, sign=False)
                self.assertEqual(status, 403, payload[:300])
                self.assertTrue(headers.get("x-amzn-errortype"))


class RefusalMetricsTests(HostileWireTestCase):

    def test_refusals_are_counted_by_error_type(self):
        self.assertRefused(raw_request("POST", f"/thing-types/{self.name('tt')}", b'{"a":1,"a":2}'))
        with urllib.request.urlopen(fk.shared().endpoint + "/metrics", timeout=30) as r:
            metrics = r.read().decode()
        self.assertRegex(metrics, r'http_server_request_duration_seconds_count\{[^}]*error_type="InvalidRequestException"'
                                  r'[^}]*http_response_status_code="400"[^}]*\} [1-9]')


class PageTokenTests(HostileWireTestCase):
    """Defect 9: tokens were base64 of the last key, accepted by any operation with any filters."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        prefix = fk.unique("pt")
        cls.type_a, cls.type_b = prefix + "-a", prefix + "-b"
        for thing_type in (cls.type_a, cls.type_b):
            cls.iot.create_thing_type(thingTypeName=thing_type)
            for i in range(3):
                cls.iot.create_thing(thingName=f"{thing_type}-{i}", thingTypeName=thing_type)

    def first_token(self, **filters) -> str:
        page = self.iot.list_things(maxResults=1, **filters)
        self.assertIn("nextToken", page)
        return page["nextToken"]

    def test_tokens_fit_the_marker_shape(self):
        token = self.first_token(thingTypeName=self.type_a)
        self.assertRegex(token, MARKER_PATTERN)
        self.assertLessEqual(len(token), 1024)
        self.iot.create_policy(policyName=self.name("p1"), policyDocument=POLICY)
        self.iot.create_policy(policyName=self.name("p2"), policyDocument=POLICY)
        marker = self.iot.list_policies(pageSize=1)["nextMarker"]
        self.assertRegex(marker, MARKER_PATTERN)

    def test_token_with_other_filters_is_refused(self):
        token = self.first_token(thingTypeName=self.type_a)
        self.assertEqual(len(self.iot.list_things(maxResults=5, thingTypeName=self.type_a, nextToken=token)["things"]), 2)
        e = self.assertClientError(self.iot.list_things, "InvalidRequestException", 400,
                                   thingTypeName=self.type_b, nextToken=token)
        self.assertEqual(e.response["Error"]["Message"], "Invalid nextToken")
        self.assertClientError(self.iot.list_things, "InvalidRequestException", 400, nextToken=token)

    def test_token_of_another_operation_is_refused(self):
        token = self.first_token(thingTypeName=self.type_a)
        self.assertClientError(self.iot.list_thing_types, "InvalidRequestException", 400, nextToken=token)
        self.assertClientError(self.iot.list_thing_groups, "InvalidRequestException", 400, nextToken=token)
        types = self.iot.list_thing_types(maxResults=1)
        self.assertClientError(self.iot.list_things, "InvalidRequestException", 400, nextToken=types["nextToken"])

    def test_sort_order_is_part_of_a_marker(self):
        for i in range(3):
            self.iot.create_policy(policyName=self.name(f"p{i}"), policyDocument=POLICY)
        marker = self.iot.list_policies(pageSize=1, ascendingOrder=True)["nextMarker"]
        self.iot.list_policies(pageSize=1, ascendingOrder=True, marker=marker)
        e = self.assertClientError(self.iot.list_policies, "InvalidRequestException", 400,
                                   pageSize=1, ascendingOrder=False, marker=marker)
        self.assertEqual(e.response["Error"]["Message"], "Invalid marker")

    def test_altered_and_forged_tokens_are_refused(self):
        token = self.first_token(thingTypeName=self.type_a)
        raw = bytearray(base64.b64decode(token))
        raw[-1] ^= 0x01  # the last byte of the key: another thing name
        altered = base64.b64encode(bytes(raw)).decode()
        # The format before issue 16: base64 of "fk1\n" and the key, which anyone could write.
        forged = base64.b64encode(f"fk1\n{self.type_a}-1".encode()).decode()
        for bad in (altered, forged, "AAAA", token[:-4], "A" * 1024):
            with self.subTest(token=bad[:40]):
                e = self.assertClientError(self.iot.list_things, "InvalidRequestException", 400,
                                           thingTypeName=self.type_a, nextToken=bad)
                self.assertEqual(e.response["Error"]["Message"], "Invalid nextToken")

    def test_fleetkey_route_tokens_are_bound_too(self):
        status, _, body = raw_request("GET", "/enrollments?nextToken=" + urllib.parse.quote(
            self.first_token(thingTypeName=self.type_a), safe=""))
        self.assertEqual(status, 400, body[:300])
        self.assertEqual(json.loads(body)["message"], "Invalid nextToken")

    def test_paginator_walks_every_page_with_filters(self):
        names = [t["thingName"] for page in self.iot.get_paginator("list_things").paginate(
            thingTypeName=self.type_b, PaginationConfig={"PageSize": 1}) for t in page["things"]]
        self.assertEqual(sorted(names), [f"{self.type_b}-{i}" for i in range(3)])


class PageTokenRestartTests(CompatTestCase):

    def test_token_outlives_export_and_import(self):
        # The CA key travels with the fleet, and with it the secret that seals the tokens.
        server = self.start_server(fk.FleetkeyServer(log_name="page-token-export", store="sqlite"))
        iot = fk.make_client(server)
        for i in range(3):
            iot.create_thing(thingName=f"moved-{i}")
        first = iot.list_things(maxResults=1)
        self.assertEqual(server.stop(), 0)
        work = tempfile.mkdtemp(prefix="fleetkey-page-token-")
        self.addCleanup(shutil.rmtree, work, True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_ROOT_")}
        for args in (["export", "--data", server.data_dir, os.path.join(work, "fleet.export")],
                     ["import", "--data", os.path.join(work, "copy"), os.path.join(work, "fleet.export")]):
            result = subprocess.run(["dotnet", fk.dll_path(), *args], capture_output=True, text=True, timeout=300, env=env)
            self.assertEqual(result.returncode, 0, f"{args}: {result.stdout}\n{result.stderr}")
        copy = self.start_server(fk.FleetkeyServer(data_dir=os.path.join(work, "copy"), log_name="page-token-import",
                                                   store="sqlite"), keys_from=server)
        rest = fk.make_client(copy).list_things(maxResults=5, nextToken=first["nextToken"])
        self.assertEqual([t["thingName"] for t in first["things"] + rest["things"]], [f"moved-{i}" for i in range(3)])

    def test_token_outlives_a_restart(self):
        # The secret is derived from the CA key, which the data directory (or the database) keeps.
        server = self.start_server(fk.FleetkeyServer(log_name="page-token-restart"))
        iot = fk.make_client(server)
        for i in range(3):
            iot.create_thing(thingName=f"restart-{i}")
        first = iot.list_things(maxResults=1)
        self.assertEqual(server.stop(), 0)
        again = self.start_server(fk.FleetkeyServer(data_dir=server.data_dir, database=server.database,
                                                    log_name="page-token-restart-2"), keys_from=server)
        rest = fk.make_client(again).list_things(maxResults=5, nextToken=first["nextToken"])
        self.assertEqual([t["thingName"] for t in first["things"] + rest["things"]], [f"restart-{i}" for i in range(3)])


if __name__ == "__main__":
    unittest.main()
