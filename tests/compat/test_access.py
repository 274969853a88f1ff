"""Least privilege and the audit trail (issue 20) with boto3, the AWS CLI and the `fleetkey` command.

The tests run on a server of their own: they make keys with `fleetkey keys`, read the trail with
`fleetkey audit` on its data directory, and change an audit record in its database. On the PostgreSQL pass
(FLEETKEY_TEST_STORE=postgres) that server runs on a fresh database (server.database), which `fleetkey` is
given with --database and psql changes; on SQLite the record is changed in DIR/fleetkey.db.

- the shipped `provisioner` policy: AccessDeniedException for what it does not allow, nothing changed;
  the AWS CLI prints AWS's message;
- an aws:SourceIp condition decided on the TCP peer (a client socket bound to 127.0.0.2);
- an explicit Deny in a second policy wins over the first policy's Allow;
- the four shipped policies attached by name, each allowing what its name says;
- `keys disable` / `enable`, `keys rotate --grace`;
- `fleetkey audit` and its filters, `fleetkey audit verify` before and after one byte of a record changes,
  and GET /audit-records.

AWS behaviour asserted here, and its source:
- Refusal: HTTP 403, error code AccessDeniedException, message `User: <principal ARN> is not authorized to
  perform: <action> [on resource: <ARN>] because no identity-based policy allows the <action> action`, or
  `… with an explicit deny in an identity-based policy` (IAM User Guide, troubleshoot_access-denied.html:
  "Access denied error message examples").
- The AWS CLI prints a service error as `An error occurred (<Code>) when calling the <Operation>
  operation: <Message>` and exits non-zero (botocore ClientError's message; awscli's error handler).
- aws:SourceIp is the requester's IP address and IpAddress matches it against a CIDR block (IAM User Guide,
  reference_policies_condition-keys.html#condition-keys-sourceip, and the IP address condition operators).
- A disabled (Inactive) key is refused as a key the service does not know: 403 UnrecognizedClientException
  (the error AWS JSON services answer for an unknown or inactive key; AccessKeyService.SetStatusAsync
  documents the choice). A wrong or rotated-out secret is 403 InvalidSignatureException (botocore's model).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk
from ca_helpers import OpenSslCa

ROLE = f"arn:aws:iam::{fk.ACCOUNT_ID}:role/FleetkeyProvisioning"
DEVICE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})
AUDIT_HEADER = "SEQ\tTIME\tCHANNEL\tKEY\tOPERATION\tSTATUS\tERROR\tSOURCE\tRESOURCES"


def principal(key_id: str) -> str:
    return f"arn:aws:iam::{fk.ACCOUNT_ID}:user/{key_id}"


def not_allowed(key_id: str, action: str, resource: str | None = None) -> str:
    on = f" on resource: {resource}" if resource else ""
    return f"User: {principal(key_id)} is not authorized to perform: {action}{on} because no identity-based policy allows the {action} action"


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "runs `fleetkey keys` and `fleetkey audit` on a server's data directory")
class AccessPolicyAndAuditTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = fk.FleetkeyServer(log_name="access")
        cls.tmp = tempfile.mkdtemp(prefix="fleetkey-access-")
        try:
            cls.server.start()
            cls.iot = fk.make_client(cls.server)
            # An INACTIVE CA: DeleteCACertificate would succeed on it, so a refusal that let the call through shows.
            ca = OpenSslCa(cls.tmp, f"c{fk.RUN_ID}-access-ca")
            cls.ca_id = cls.iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="SNI_ONLY", setAsActive=False)["certificateId"]
            # A policy of one read, for the tests about a key's life rather than about what it may do.
            cls.lister = os.path.join(cls.tmp, "list-things.json")
            with open(cls.lister, "w") as f:
                json.dump({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:ListThings", "Resource": "*"}]}, f)
            cls.provisioner_id, cls.provisioner_secret = cls.create_key("--policy", "provisioner")
            cls.provisioner = fk.make_client(cls.server, access_key_id=cls.provisioner_id, secret_access_key=cls.provisioner_secret)
        except Exception:
            # tearDownClass does not run after a failed setUpClass.
            print(cls.server.log_tail())
            cls.server.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            print(cls.server.log_tail())
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, f"fleetkey serve exited with {code}"

    # ------------------------------------------------------------------ helpers

    @classmethod
    def fleetkey(cls, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`fleetkey ARGS --data DIR [--database URL]` on the class's server's fleet."""
        store = ["--database", cls.server.database] if cls.server.database else []
        result = subprocess.run(["dotnet", fk.dll_path(), *args, "--data", cls.server.data_dir, *store],
                                capture_output=True, text=True, timeout=120,
                                env={k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_ROOT_")})
        if check and result.returncode != 0:
            raise AssertionError(f"fleetkey {' '.join(args)} exited {result.returncode}\n{result.stdout}{result.stderr}")
        return result

    @staticmethod
    def credentials(output: str) -> tuple[str, str]:
        values = dict(line.split(" = ", 1) for line in output.splitlines() if " = " in line)
        return values["aws_access_key_id"], values["aws_secret_access_key"]

    @classmethod
    def create_key(cls, *args: str) -> tuple[str, str]:
        return cls.credentials(cls.fleetkey("keys", "create", "--description", "compat access", *args).stdout)

    def client_for(self, key_id: str, secret: str):
        return fk.make_client(self.server, access_key_id=key_id, secret_access_key=secret)

    def policy_file(self, name: str, statements: list) -> str:
        """A policy document in NAME.json (`fleetkey keys` names a file's policy after it)."""
        path = os.path.join(self.tmp, f"{name}.json")
        with open(path, "w") as f:
            json.dump({"Version": "2012-10-17", "Statement": statements}, f)
        return path

    def audit(self, *args: str) -> list[dict]:
        """`fleetkey audit --format jsonl ARGS`, parsed."""
        out = self.fleetkey("audit", "--format", "jsonl", *args).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def assertAccessDenied(self, call, message: str, **kwargs):
        e = self.assertClientError(call, "AccessDeniedException", 403, **kwargs)
        self.assertEqual(e.response["Error"]["Message"], message)
        self.assertEqual(e.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].split(":")[0], "AccessDeniedException")
        return e

    def send_from(self, source: str, method: str, path: str, key_id: str, secret: str):
        """A SigV4-signed request sent from a client socket bound to `source` (the peer the server sees)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        request = AWSRequest(method=method, url=self.server.endpoint + path, headers={})
        SigV4Auth(Credentials(key_id, secret), "iot", fk.REGION).add_auth(request)
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30, source_address=(source, 0))
        try:
            connection.request(method, path, headers=dict(request.headers.items()))
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def change_request_id(self, sequence: int, request_id: str) -> None:
        """Writes an audit record's request_id straight into the database, as someone with the database would."""
        if self.server.database:
            changed = fk.query_database(self.server.database, f"UPDATE audit_records SET request_id = '{request_id}' "
                                                              f"WHERE sequence = {sequence} RETURNING sequence")
            self.assertEqual(changed.splitlines()[0], str(sequence))
            return
        with sqlite3.connect(os.path.join(self.server.data_dir, "fleetkey.db"), timeout=30) as db:
            self.assertEqual(db.execute("UPDATE audit_records SET request_id = ? WHERE sequence = ?", (request_id, sequence)).rowcount, 1)
        db.close()

    # ------------------------------------------------------------------ the provisioner policy

    def test_provisioner_is_refused_what_it_is_not_given_and_nothing_changes(self):
        kept_policy, new_policy = self.name("kept"), self.name("new")
        template = fk.unique("tpl")  # a template name is at most 36 characters
        self.iot.create_policy(policyName=kept_policy, policyDocument=DEVICE_POLICY)
        p = self.provisioner
        cases = [
            ("DeleteCACertificate", lambda: p.delete_ca_certificate(certificateId=self.ca_id), fk.arn("cacert", self.ca_id)),
            ("UpdateCACertificate", lambda: p.update_ca_certificate(certificateId=self.ca_id, newStatus="ACTIVE"), fk.arn("cacert", self.ca_id)),
            ("CreatePolicy", lambda: p.create_policy(policyName=new_policy, policyDocument=DEVICE_POLICY), fk.arn("policy", new_policy)),
            ("DeletePolicy", lambda: p.delete_policy(policyName=kept_policy), fk.arn("policy", kept_policy)),
            ("CreateProvisioningTemplate", lambda: p.create_provisioning_template(
                templateName=template, templateBody=fk.seed_template(), provisioningRoleArn=ROLE, enabled=True),
             fk.arn("provisioningtemplate", template)),
        ]
        for operation, call, resource in cases:
            with self.subTest(operation):
                self.assertAccessDenied(call, not_allowed(self.provisioner_id, f"iot:{operation}", resource))

        # Nothing changed, as the root key sees it.
        self.assertEqual(self.iot.describe_ca_certificate(certificateId=self.ca_id)["certificateDescription"]["status"], "INACTIVE")
        self.assertEqual(self.iot.get_policy(policyName=kept_policy)["policyName"], kept_policy)
        self.assertClientError(self.iot.get_policy, "ResourceNotFoundException", 404, policyName=new_policy)
        self.assertClientError(self.iot.describe_provisioning_template, "ResourceNotFoundException", 404, templateName=template)

        # What the policy gives, the key may do.
        created = p.create_keys_and_certificate(setAsActive=False)
        self.assertEqual(self.iot.describe_certificate(certificateId=created["certificateId"])["certificateDescription"]["status"], "INACTIVE")

    def test_aws_cli_prints_awss_access_denied_message(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.provisioner_id, AWS_SECRET_ACCESS_KEY=self.provisioner_secret,
                   AWS_DEFAULT_REGION=fk.REGION, AWS_EC2_METADATA_DISABLED="true")
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        result = subprocess.run(["aws", "--endpoint-url", self.server.endpoint, "iot", "delete-ca-certificate",
                                 "--certificate-id", self.ca_id], capture_output=True, text=True, timeout=120, env=env)
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("An error occurred (AccessDeniedException) when calling the DeleteCACertificate operation: "
                      + not_allowed(self.provisioner_id, "iot:DeleteCACertificate", fk.arn("cacert", self.ca_id)), result.stderr)
        self.assertEqual(self.iot.describe_ca_certificate(certificateId=self.ca_id)["certificateDescription"]["certificateId"], self.ca_id)

    def test_shipped_policies_attach_by_name_and_allow_what_they_say(self):
        # The four policies of policies/, by name: each allows its job's operations and nothing else.
        def route(key, path):
            status, headers, body = fk.signed_request("GET", path, server=self.server, access_key_id=key[0], secret_access_key=key[1])
            return status, headers.get("x-amzn-errortype", "").split(":")[0], json.loads(body or b"{}").get("message")

        for name in ("provisioner", "read-only", "enrollment-operator", "admin"):
            with self.subTest(name):
                created = self.fleetkey("keys", "create", "--policy", name, check=False)
                self.assertEqual(created.returncode, 0, f"keys create --policy {name}: {created.stderr}")
                key = self.credentials(created.stdout)
                iot, thing = self.client_for(*key), self.name(name)
                listed = next(line for line in self.fleetkey("keys", "list").stdout.splitlines() if line.startswith(key[0] + "\t"))
                self.assertEqual(listed.split("\t")[3], name)
                if name == "provisioner":
                    iot.create_keys_and_certificate(setAsActive=False)
                    self.assertAccessDenied(iot.list_things, not_allowed(key[0], "iot:ListThings"))
                elif name == "read-only":
                    self.assertIn("things", iot.list_things(maxResults=1))
                    self.assertAccessDenied(lambda: iot.create_thing(thingName=thing), not_allowed(key[0], "iot:CreateThing", fk.arn("thing", thing)))
                    self.assertEqual(route(key, "/audit-records"), (403, "AccessDeniedException", (
                        f"User: {principal(key[0])} is not authorized to perform: fleetkey:ListAuditRecords "
                        "with an explicit deny in an identity-based policy")))
                elif name == "enrollment-operator":
                    self.assertEqual(route(key, "/enrollment-groups")[0], 200)
                    self.assertIn("things", iot.list_things(maxResults=1))
                    self.assertAccessDenied(lambda: iot.create_thing(thingName=thing), not_allowed(key[0], "iot:CreateThing", fk.arn("thing", thing)))
                else:
                    self.assertEqual(iot.create_thing(thingName=thing)["thingName"], thing)
                    self.assertEqual(route(key, "/audit-records?maxResults=1")[0], 200)

    # ------------------------------------------------------------------ conditions and explicit deny

    def test_source_ip_condition_is_decided_on_the_tcp_peer(self):
        policy = self.policy_file(self.name("loopback-only"), [{
            "Effect": "Allow", "Action": "iot:ListThings", "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}}])
        key_id, secret = self.create_key("--policy", policy)

        status, _, body = self.send_from("127.0.0.1", "GET", "/things", key_id, secret)
        self.assertEqual(status, 200, body)
        self.assertIn("things", json.loads(body))

        status, headers, body = self.send_from("127.0.0.2", "GET", "/things", key_id, secret)
        self.assertEqual(status, 403, body)
        self.assertEqual(headers["x-amzn-errortype"].split(":")[0], "AccessDeniedException")
        self.assertEqual(json.loads(body)["message"], not_allowed(key_id, "iot:ListThings"))

        # The trail has the refusal, from where it came; the allowed read is not a change, so it is not recorded.
        records = self.audit("--key", key_id)
        self.assertEqual([(r["operation"], r["status"], r["errorCode"], r["source"]) for r in records],
                         [("ListThings", 403, "AccessDeniedException", "127.0.0.2")])

    def test_explicit_deny_in_a_second_policy_wins_over_an_allow(self):
        gateways = f"{self.name('gw')}-*"
        allow = self.policy_file(self.name("things"), [{
            "Effect": "Allow", "Action": ["iot:CreateThing", "iot:DescribeThing"], "Resource": "arn:aws:iot:*:*:thing/*"}])
        deny_name = self.name("no-gateways")
        deny = self.policy_file(deny_name, [{
            "Effect": "Deny", "Action": "iot:CreateThing", "Resource": f"arn:aws:iot:*:*:thing/{gateways}"}])
        key_id, secret = self.create_key("--policy", allow, "--policy", deny)
        iot = self.client_for(key_id, secret)

        sensor, gateway = self.name("sensor"), self.name("gw") + "-1"
        self.assertEqual(iot.create_thing(thingName=sensor)["thingName"], sensor)
        self.assertAccessDenied(lambda: iot.create_thing(thingName=gateway),
                                f"User: {principal(key_id)} is not authorized to perform: iot:CreateThing on resource: "
                                f"{fk.arn('thing', gateway)} with an explicit deny in an identity-based policy")
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=gateway)

        # Without the second policy, the first one's Allow covers the same thing.
        self.fleetkey("keys", "detach-policy", key_id, deny_name)
        self.assertEqual(iot.create_thing(thingName=gateway)["thingName"], gateway)

    # ------------------------------------------------------------------ key life cycle

    def test_disable_refuses_the_key_and_enable_restores_it(self):
        key_id, secret = self.create_key("--policy", self.lister)
        iot = self.client_for(key_id, secret)
        self.assertIn("things", iot.list_things(maxResults=1))

        self.assertIn(f"Disabled {key_id}", self.fleetkey("keys", "disable", key_id).stdout)
        self.assertClientError(lambda: iot.list_things(maxResults=1), "UnrecognizedClientException", 403)
        listed = self.fleetkey("keys", "list").stdout.splitlines()
        self.assertEqual(next(line for line in listed if line.startswith(key_id + "\t")).split("\t")[1], "Inactive")

        self.assertIn(f"Enabled {key_id}", self.fleetkey("keys", "enable", key_id).stdout)
        self.assertIn("things", iot.list_things(maxResults=1))

        self.assertEqual([(r["operation"], r["status"], r["errorCode"]) for r in self.audit("--key", key_id)],
                         [("ListThings", 403, "UnrecognizedClientException")])
        changes = [r for r in self.audit("--operation", "UpdateAccessKey") if r["resources"] == [f"accesskey/{key_id}"]]
        self.assertEqual([(r["channel"], r["status"]) for r in changes], [("cli", 200), ("cli", 200)])

    def test_rotate_keeps_the_old_secret_for_the_grace(self):
        key_id, first = self.create_key("--policy", self.lister)
        rotated = self.fleetkey("keys", "rotate", key_id, "--grace", "1h")
        rotated_id, second = self.credentials(rotated.stdout)
        self.assertEqual(rotated_id, key_id)
        self.assertNotEqual(second, first)
        self.assertRegex(rotated.stderr, rf"the previous secret of {key_id} works until \d{{4}}-\d\d-\d\dT")
        for secret in (second, first):
            self.assertIn("things", self.client_for(key_id, secret).list_things(maxResults=1))

    def test_rotate_with_zero_grace_refuses_the_old_secret_at_once(self):
        # `fleetkey keys rotate --help`: "How long the old secret keeps working, e.g. 1h, 24h, 7d, 0s".
        key_id, first = self.create_key("--policy", self.lister)
        rotated = self.fleetkey("keys", "rotate", key_id, "--grace", "0s", check=False)
        self.assertEqual(rotated.returncode, 0, f"keys rotate --grace 0s: {rotated.stderr}")
        _, second = self.credentials(rotated.stdout)
        self.assertIn(f"the previous secret of {key_id} no longer works", rotated.stderr)
        self.assertIn("things", self.client_for(key_id, second).list_things(maxResults=1))
        self.assertClientError(lambda: self.client_for(key_id, first).list_things(maxResults=1), "InvalidSignatureException", 403)

    # ------------------------------------------------------------------ the audit trail

    def test_audit_shows_writes_and_refusals_with_their_key_and_filters(self):
        key_id, secret = self.create_key("--policy", "provisioner", "--policy", self.lister)
        iot = self.client_for(key_id, secret)
        denied_policy = self.name("policy")
        request_ids = []

        self.assertIn("things", iot.list_things(maxResults=1))  # a read that succeeds: not recorded
        created = iot.create_keys_and_certificate(setAsActive=False)
        request_ids.append(created["ResponseMetadata"]["RequestId"])
        for call in (lambda: iot.delete_ca_certificate(certificateId=self.ca_id),
                     lambda: iot.create_policy(policyName=denied_policy, policyDocument=DEVICE_POLICY)):
            request_ids.append(self.assertClientError(call, "AccessDeniedException", 403).response["ResponseMetadata"]["RequestId"])
        bad = self.client_for(key_id, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        request_ids.append(self.assertClientError(bad.create_thing, "InvalidSignatureException", 403,
                                                  thingName=self.name("bad-signature")).response["ResponseMetadata"]["RequestId"])
        root_thing = self.name("by-root")
        self.iot.create_thing(thingName=root_thing)

        expected = [("CreateKeysAndCertificate", 200, None, []),
                    ("DeleteCACertificate", 403, "AccessDeniedException", [fk.arn("cacert", self.ca_id)]),
                    ("CreatePolicy", 403, "AccessDeniedException", [fk.arn("policy", denied_policy)]),
                    ("CreateThing", 403, "InvalidSignatureException", [])]
        records = self.audit("--key", key_id)
        self.assertEqual([(r["operation"], r["status"], r["errorCode"], r["resources"]) for r in records], expected)
        self.assertEqual([r["requestId"] for r in records], request_ids)
        self.assertEqual(sorted({(r["channel"], r["accessKeyId"], r["source"]) for r in records}), [("api", key_id, "127.0.0.1")])
        for r in records:
            self.assertTrue(r["userAgent"].startswith("Boto3/"), r["userAgent"])
            self.assertRegex(r["hash"], r"^[0-9a-f]{64}$")
            self.assertRegex(r["recordedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        sequences = [r["sequence"] for r in records]
        self.assertEqual(sequences, sorted(sequences))

        with self.subTest("--outcome"):
            self.assertEqual([r["sequence"] for r in self.audit("--key", key_id, "--outcome", "denied")], sequences[1:])
            self.assertEqual([r["sequence"] for r in self.audit("--key", key_id, "--outcome", "succeeded")], sequences[:1])
        with self.subTest("--operation"):
            self.assertEqual([r["sequence"] for r in self.audit("--key", key_id, "--operation", "DeleteCACertificate")], [sequences[1]])
            by_root = [r for r in self.audit("--operation", "CreateThing", "--resource", fk.arn("thing", root_thing))]
            self.assertEqual([(r["accessKeyId"], r["status"], r["errorCode"]) for r in by_root], [(self.server.access_key_id, 200, None)])
        with self.subTest("--limit"):
            self.assertEqual([r["sequence"] for r in self.audit("--key", key_id, "--limit", "2")], sequences[:2])
        with self.subTest("the key's creation, by the CLI"):
            made = [r for r in self.audit("--operation", "CreateAccessKey") if r["resources"] == [f"accesskey/{key_id}"]]
            self.assertEqual([(r["channel"], r["accessKeyId"], r["status"]) for r in made], [("cli", None, 200)])
        with self.subTest("table"):
            lines = self.fleetkey("audit", "--key", key_id).stdout.splitlines()
            self.assertEqual(lines[0], AUDIT_HEADER)
            rows = [line.split("\t") for line in lines[1:]]
            self.assertEqual([len(row) for row in rows], [9] * 4)
            self.assertEqual([row[:3] + row[4:] for row in rows][:2], [
                [str(sequences[0]), records[0]["recordedAt"], "api", "CreateKeysAndCertificate", "200", "-", "127.0.0.1", "*"],
                [str(sequences[1]), records[1]["recordedAt"], "api", "DeleteCACertificate", "403", "AccessDeniedException", "127.0.0.1",
                 fk.arn("cacert", self.ca_id)]])
            self.assertEqual({row[3] for row in rows}, {key_id})

    def test_audit_verify_names_the_record_changed_in_the_database(self):
        self.assertClientError(lambda: self.provisioner.delete_ca_certificate(certificateId=self.ca_id), "AccessDeniedException", 403)
        target = self.audit("--key", self.provisioner_id, "--operation", "DeleteCACertificate")[-1]
        self.iot.create_thing(thingName=self.name("after"))  # the changed record is not the chain's head

        verified = self.fleetkey("audit", "verify")
        self.assertRegex(verified.stdout, r"^audit trail verified: \d+ records, ")

        original = target["requestId"]
        self.change_request_id(target["sequence"], original[:-1] + ("0" if original[-1] != "0" else "1"))
        try:
            broken = self.fleetkey("audit", "verify", check=False)
            self.assertEqual(broken.returncode, 1, broken.stdout + broken.stderr)
            self.assertTrue(broken.stderr.startswith(
                f"fleetkey: audit trail does not verify at record {target['sequence']}: record {target['sequence']} ("), broken.stderr)
            self.assertIn("DeleteCACertificate) does not match its hash", broken.stderr)
        finally:
            self.change_request_id(target["sequence"], original)
        self.assertEqual(self.fleetkey("audit", "verify", check=False).returncode, 0, "the restored trail verifies again")

    def test_list_audit_records_route_for_the_root_key_only(self):
        self.assertClientError(lambda: self.provisioner.delete_ca_certificate(certificateId=self.ca_id), "AccessDeniedException", 403)
        expected = self.audit("--key", self.provisioner_id, "--outcome", "denied")

        status, _, body = fk.signed_request("GET", f"/audit-records?accessKeyId={self.provisioner_id}&outcome=denied", server=self.server)
        self.assertEqual(status, 200, body)
        records = json.loads(body)["records"]
        self.assertEqual([(r["sequence"], r["operation"], r["status"], r["errorCode"], r["hash"]) for r in records],
                         [(r["sequence"], r["operation"], r["status"], r["errorCode"], r["hash"]) for r in expected])

        status, headers, body = fk.signed_request("GET", "/audit-records", server=self.server,
                                                  access_key_id=self.provisioner_id, secret_access_key=self.provisioner_secret)
        self.assertEqual(status, 403, body)
        self.assertEqual(headers["x-amzn-errortype"].split(":")[0], "AccessDeniedException")
        self.assertEqual(json.loads(body)["message"], not_allowed(self.provisioner_id, "fleetkey:ListAuditRecords"))
        refused = self.audit("--key", self.provisioner_id, "--operation", "ListAuditRecords")
        self.assertEqual([(r["status"], r["errorCode"]) for r in refused][-1:], [(403, "AccessDeniedException")])


if __name__ == "__main__":
    unittest.main()
