"""`fleetkey export` / `fleetkey import` (issue 4): a fleet built through the API on SQLite moves to
PostgreSQL and back, and the registry answers every read exactly as before, with the same CA and
the same access keys.

Runs when FLEETKEY_TEST_POSTGRES names a PostgreSQL server (CI starts one with scripts/postgres.sh);
in CI (CI=true) a missing server is a failure, not a skip. Each run creates its own databases.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

from compat_base import CompatTestCase
import fleetkey_server as fk

POSTGRES = os.environ.get("FLEETKEY_TEST_POSTGRES")
IN_CI = os.environ.get("CI", "").lower() == "true"
# FleetTransfer's table list, in export order.
EXPORTED_TABLES = ["access_keys", "access_key_policies", "thing_types", "things", "thing_attributes", "thing_groups", "thing_group_members", "tags",
                   "ca_certificates", "registration_codes", "certificates", "thing_principals", "policies", "policy_versions",
                   "policy_targets", "device_signatures", "device_registrations", "device_attempts", "provisioning_templates",
                   "provisioning_template_versions", "enrollment_groups", "enrollments", "fleet_ownership_tokens",
                   "provisioning_claims", "certificate_renewals", "certificate_tombstones", "crl_numbers", "audit_records",
                   "audit_chain", "ca_material"]


def fleetkey(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["dotnet", fk.dll_path(), *args], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_ROOT_")})


def verified_trail(test, *store) -> str:
    """`fleetkey audit verify` on a fleet: asserts exit 0 and a non-empty chain; returns the line (count, range, head hash)."""
    result = fleetkey("audit", "verify", *store)
    test.assertEqual(result.returncode, 0, f"audit verify {' '.join(store)}\n{result.stdout}{result.stderr}")
    test.assertRegex(result.stdout, r"^audit trail verified: [1-9]\d* records, ")
    return result.stdout.strip()


@unittest.skipIf(not POSTGRES and not IN_CI, "FLEETKEY_TEST_POSTGRES is not set")
class ExportImportTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        if not POSTGRES:
            raise AssertionError("FLEETKEY_TEST_POSTGRES must be set in CI (scripts/postgres.sh start)")

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix="fleetkey-transfer-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def start(self, tag, data_dir, database=None, keys_from=None):
        return self.start_server(
            fk.FleetkeyServer(data_dir=data_dir, log_name=tag, store="sqlite",
                              extra_args=["--database", database] if database else []),
            keys_from=keys_from)

    def new_database(self):
        url = fk.create_database()
        self.addCleanup(fk.drop_database, url)
        return url

    def run_ok(self, *args):
        result = fleetkey(*args)
        self.assertEqual(result.returncode, 0, f"fleetkey {' '.join(args)}\n{result.stdout}\n{result.stderr}")
        return result

    # ------------------------------------------------------------------ the fleet

    def populate(self, iot):
        iot.create_thing_type(thingTypeName="NewDevice", thingTypeProperties={
            "thingTypeDescription": "made by the seed's template", "searchableAttributes": ["SerialNumber"]},
            tags=[{"Key": "team", "Value": "factory"}])
        iot.create_thing_type(thingTypeName="Retired")
        iot.deprecate_thing_type(thingTypeName="Retired")
        iot.create_thing_group(thingGroupName="NewDevices", thingGroupProperties={
            "thingGroupDescription": "every new device", "attributePayload": {"attributes": {"site": "plant-1"}}})
        iot.create_thing_group(thingGroupName="Plant")
        iot.create_thing_group(thingGroupName="Line-2", parentGroupName="Plant", tags=[{"Key": "shift", "Value": "night"}])
        iot.create_thing_group(thingGroupName="Cell-7", parentGroupName="Line-2")
        statement = {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}
        iot.create_policy(policyName="DefaultNewDevicePolicy",
                          policyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
        iot.create_policy_version(policyName="DefaultNewDevicePolicy", setAsDefault=True, policyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement, {**statement, "Action": "iot:Publish"}]}))
        iot.attach_policy(policyName="DefaultNewDevicePolicy", target=fk.arn("thinggroup", "Line-2"))

        template = fk.seed_template()
        for i in range(6):
            serial = f"SN-TRANSFER-{i:03d}"
            keys = iot.create_keys_and_certificate(setAsActive=True)
            iot.register_thing(templateBody=template, parameters={
                "ThingName": serial, "SerialNumber": serial, "CertificateId": keys["certificateId"]})
        iot.add_thing_to_thing_group(thingGroupName="Cell-7", thingName="SN-TRANSFER-001")
        iot.update_thing(thingName="SN-TRANSFER-002", attributePayload={"attributes": {"batch": "b-7"}, "merge": True})
        iot.update_thing(thingName="SN-TRANSFER-002", thingTypeName="NewDevice", removeThingType=False,
                         attributePayload={"attributes": {"note": "x"}, "merge": True})
        spare = iot.create_keys_and_certificate(setAsActive=False)
        iot.create_thing(thingName="gateway-7", attributePayload={"attributes": {"floor": "3"}})
        iot.attach_thing_principal(thingName="gateway-7", principal=spare["certificateArn"])
        # A certificate revoked and one deleted: history the import must keep as it is.
        revoked = iot.create_keys_and_certificate(setAsActive=True)
        iot.update_certificate(certificateId=revoked["certificateId"], newStatus="REVOKED")
        gone = iot.create_keys_and_certificate(setAsActive=False)
        iot.delete_certificate(certificateId=gone["certificateId"])
        # The seed's template stored as a provisioning template, with a second version made the default.
        iot.create_provisioning_template(templateName="seed-template", templateBody=template, enabled=True,
                                         provisioningRoleArn="arn:aws:iam::000000000000:role/FleetkeyProvisioning",
                                         tags=[{"Key": "owner", "Value": "factory"}])
        iot.create_provisioning_template_version(templateName="seed-template", templateBody=template, setAsDefault=True)

    def snapshot(self, iot) -> dict:
        """Every read the registry answers, keyed by call; metadata stripped."""
        def call(name, **kwargs):
            response = getattr(iot, name)(**kwargs)
            response.pop("ResponseMetadata", None)
            return response

        def pages(operation, key, **kwargs):
            out = []
            for page in iot.get_paginator(operation).paginate(**kwargs):
                out.extend(page.get(key, []))
            return out

        snap = {}
        things = pages("list_things", "things")
        snap["list_things"] = things
        for thing in things:
            name = thing["thingName"]
            snap[f"describe_thing {name}"] = call("describe_thing", thingName=name)
            snap[f"list_thing_principals {name}"] = call("list_thing_principals", thingName=name)
            snap[f"list_thing_groups_for_thing {name}"] = call("list_thing_groups_for_thing", thingName=name)
        snap["list_thing_types"] = pages("list_thing_types", "thingTypes")
        for thing_type in snap["list_thing_types"]:
            snap[f"describe_thing_type {thing_type['thingTypeName']}"] = call("describe_thing_type", thingTypeName=thing_type["thingTypeName"])
        snap["list_thing_groups"] = pages("list_thing_groups", "thingGroups")
        for group in snap["list_thing_groups"]:
            name = group["groupName"]
            snap[f"describe_thing_group {name}"] = call("describe_thing_group", thingGroupName=name)
            snap[f"list_things_in_thing_group {name}"] = call("list_things_in_thing_group", thingGroupName=name, recursive=True)
            snap[f"tags {name}"] = call("list_tags_for_resource", resourceArn=group["groupArn"])
            snap[f"list_attached_policies {name}"] = call("list_attached_policies", target=group["groupArn"])
        snap["list_certificates"] = pages("list_certificates", "certificates")
        for certificate in snap["list_certificates"]:
            cid = certificate["certificateId"]
            snap[f"describe_certificate {cid}"] = call("describe_certificate", certificateId=cid)
            snap[f"list_principal_things {cid}"] = call("list_principal_things", principal=certificate["certificateArn"])
            snap[f"list_attached_policies {cid}"] = call("list_attached_policies", target=certificate["certificateArn"])
        snap["list_policies"] = pages("list_policies", "policies")
        for policy in snap["list_policies"]:
            name = policy["policyName"]
            snap[f"get_policy {name}"] = call("get_policy", policyName=name)
            snap[f"list_policy_versions {name}"] = call("list_policy_versions", policyName=name)
            for version in snap[f"list_policy_versions {name}"]["policyVersions"]:
                snap[f"get_policy_version {name} {version['versionId']}"] = call("get_policy_version", policyName=name, policyVersionId=version["versionId"])
            snap[f"list_targets_for_policy {name}"] = call("list_targets_for_policy", policyName=name)
        snap["list_provisioning_templates"] = pages("list_provisioning_templates", "templates")
        for template in snap["list_provisioning_templates"]:
            name = template["templateName"]
            snap[f"describe_provisioning_template {name}"] = call("describe_provisioning_template", templateName=name)
            snap[f"list_provisioning_template_versions {name}"] = call("list_provisioning_template_versions", templateName=name)
            snap[f"tags {name}"] = call("list_tags_for_resource", resourceArn=template["templateArn"])
        snap["search ListThings by attribute"] = call("list_things", attributeName="SerialNumber", attributeValue="SN-TRANSFER-003")
        snap["describe_endpoint"] = call("describe_endpoint", endpointType="iot:Data-ATS")
        return snap

    def assertSameAnswers(self, expected, actual, where):
        self.assertEqual(sorted(expected), sorted(actual), f"{where}: different set of reads")
        for key in expected:
            self.assertEqual(expected[key], actual[key], f"{where}: {key} differs")

    # ------------------------------------------------------------------ the test

    def test_sqlite_to_postgres_and_back_answers_identically(self):
        source_dir = os.path.join(self.work, "sqlite-source")
        source = self.start("transfer-sqlite", source_dir)
        iot = fk.make_client(source)
        self.populate(iot)
        before = self.snapshot(iot)
        self.assertEqual(len(before["list_things"]), 7)
        self.assertEqual(len(before["list_certificates"]), 8)
        self.assertEqual(before["describe_provisioning_template seed-template"]["defaultVersionId"], 2)
        chain = urllib.request.urlopen(source.endpoint + "/ca.pem").read()
        self.assertEqual(source.stop(), 0)

        # SQLite → PostgreSQL.
        export_path = os.path.join(self.work, "fleet.jsonl")
        self.run_ok("export", "--data", source_dir, export_path)
        self.assertEqual(os.stat(export_path).st_mode & 0o777, 0o600, "the export holds secrets: owner only")
        database = self.new_database()
        self.run_ok("migrate", "--database", database)
        imported = self.run_ok("import", "--data", os.path.join(self.work, "pg-node"), "--database", database, export_path)
        self.assertIn("things", imported.stderr)
        # Issue 20: the audit trail moves whole: the same records and head hash, and its chain verifies on the target.
        self.assertEqual(verified_trail(self, "--data", os.path.join(self.work, "pg-node"), "--database", database),
                         verified_trail(self, "--data", source_dir))

        node = self.start("transfer-postgres", os.path.join(self.work, "pg-node"), database, keys_from=source)
        pg_iot = fk.make_client(node)
        self.assertSameAnswers(before, self.snapshot(pg_iot), "PostgreSQL after import")
        self.assertEqual(chain, urllib.request.urlopen(node.endpoint + "/ca.pem").read(), "the CA moved with the fleet")

        # The imported node keeps working: what it issues chains to the same CA, versions go on.
        keys = pg_iot.create_keys_and_certificate(setAsActive=True)
        self.assertVerifies(keys["certificatePem"], chain)
        pg_iot.update_thing(thingName="SN-TRANSFER-002", expectedVersion=before["describe_thing SN-TRANSFER-002"]["version"],
                                      attributePayload={"attributes": {"moved": "yes"}, "merge": True})
        self.assertEqual(pg_iot.describe_thing(thingName="SN-TRANSFER-002")["version"],
                         before["describe_thing SN-TRANSFER-002"]["version"] + 1)
        pg_iot.update_certificate(certificateId=keys["certificateId"], newStatus="INACTIVE")
        pg_iot.delete_certificate(certificateId=keys["certificateId"])
        pg_iot.update_thing(thingName="SN-TRANSFER-002", attributePayload={"attributes": {"moved": ""}, "merge": True})
        after_pg = self.snapshot(pg_iot)
        self.assertEqual(node.stop(), 0)

        # Importing twice is refused and changes nothing.
        again = fleetkey("import", "--data", os.path.join(self.work, "pg-node-2"), "--database", database, export_path)
        self.assertEqual(again.returncode, 1, again.stderr)
        self.assertIn("not empty", again.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.work, "pg-node-2")),
                         "a command on PostgreSQL makes no data directory it does not write to")

        # PostgreSQL → SQLite, streamed through a pipe.
        back_dir = os.path.join(self.work, "sqlite-back")
        exporter = subprocess.Popen(["dotnet", fk.dll_path(), "export", "--data", os.path.join(self.work, "pg-node"), "--database", database, "-"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        importer = subprocess.run(["dotnet", fk.dll_path(), "import", "--data", back_dir, "-"], stdin=exporter.stdout,
                                  capture_output=True, text=True, timeout=300)
        exporter.stdout.close()
        self.assertEqual(exporter.wait(timeout=60), 0, exporter.stderr.read().decode())
        self.assertEqual(importer.returncode, 0, importer.stderr)
        self.assertEqual(verified_trail(self, "--data", back_dir),
                         verified_trail(self, "--data", os.path.join(self.work, "pg-node"), "--database", database))
        back = self.start("transfer-sqlite-back", back_dir, keys_from=source)
        back_iot = fk.make_client(back)
        self.assertSameAnswers(after_pg, self.snapshot(back_iot), "SQLite after the round trip")
        self.assertEqual(chain, urllib.request.urlopen(back.endpoint + "/ca.pem").read())
        self.assertEqual(back.stop(), 0)

    def test_import_of_a_cut_off_export_changes_nothing(self):
        source_dir = os.path.join(self.work, "source")
        source = self.start("transfer-cut-source", source_dir)
        fk.make_client(source).create_thing(thingName="only-thing")
        self.assertEqual(source.stop(), 0)
        export_path = os.path.join(self.work, "fleet.jsonl")
        self.run_ok("export", "--data", source_dir, export_path)
        with open(export_path) as f:
            lines = f.read().splitlines()
        with open(export_path, "w") as f:
            f.write("\n".join(lines[:-1]) + "\n")

        database = self.new_database()
        result = fleetkey("import", "--data", os.path.join(self.work, "target"), "--database", database, export_path)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("incomplete", result.stderr)

        # Nothing landed: a node started on it makes a fresh fleet (a new CA, no things).
        node = self.start("transfer-cut-target", os.path.join(self.work, "target"), database)
        self.assertEqual(fk.make_client(node).list_things()["things"], [])
        self.assertEqual(node.stop(), 0)

        sqlite_target = os.path.join(self.work, "sqlite-target")
        result = fleetkey("import", "--data", sqlite_target, export_path)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertFalse(os.path.exists(os.path.join(sqlite_target, "ca")), "CA files of a failed import are removed")

    def assertVerifies(self, certificate_pem, chain_pem):
        cert = os.path.join(self.work, "leaf.pem")
        ca = os.path.join(self.work, "chain.pem")
        with open(cert, "w") as f:
            f.write(certificate_pem)
        with open(ca, "wb") as f:
            f.write(chain_pem)
        result = subprocess.run(["openssl", "verify", "-CAfile", ca, cert], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class ExportIntegrityTests(CompatTestCase):
    """Issue 16, defect 5: one byte changed inside a value (a certificate status, a byte of the issuing
    CA key, an access-key secret, a version number) imported with exit 0, and a damaged CA key then
    stopped `serve` with a stack trace. Runs on SQLite, through the real `fleetkey` processes."""

    PASSPHRASE = "export integrity passphrase"

    @classmethod
    def setUpClass(cls):
        pass

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix="fleetkey-integrity-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def export_fleet(self, passphrase=None):
        """A small fleet (a thing at version 2, an active certificate, a policy), exported; returns (path, source)."""
        env = {"FLEETKEY_CA_PASSPHRASE": passphrase} if passphrase else {}
        source = self.start_server(fk.FleetkeyServer(data_dir=os.path.join(self.work, "source"), log_name="integrity-source",
                                                     store="sqlite", extra_env=env))
        iot = fk.make_client(source)
        iot.create_thing(thingName="sensor-7", attributePayload={"attributes": {"model": "m1"}})
        iot.update_thing(thingName="sensor-7", attributePayload={"attributes": {"model": "m2"}})
        keys = iot.create_keys_and_certificate(setAsActive=True)
        iot.attach_thing_principal(thingName="sensor-7", principal=keys["certificateArn"])
        self.assertEqual(source.stop(), 0)
        path = os.path.join(self.work, "fleet.jsonl")
        result = fleetkey_env(env, "export", "--data", source.data_dir, path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.exported_stderr = result.stderr
        return path, source

    def import_into(self, name, path, passphrase=None):
        env = {"FLEETKEY_CA_PASSPHRASE": passphrase} if passphrase else {}
        target = os.path.join(self.work, name)
        return target, fleetkey_env(env, "import", "--data", target, path)

    def assertRefusedAndEmpty(self, result, target, *expected):
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("import refused, nothing was imported", result.stderr)
        for text in expected:
            self.assertIn(text, result.stderr)
        self.assertNotIn("Unhandled exception", result.stderr)
        # Issue 17: the target directory the import made (database, CA files and all) goes with the rows.
        self.assertFalse(os.path.exists(target), f"a refused import left {target} behind")

    def test_a_refused_import_removes_what_it_made_and_only_that(self):
        # Issue 17: a refused file left the target directory it had made (an empty migrated database).
        garbage = os.path.join(self.work, "garbage.jsonl")
        with open(garbage, "w") as f:
            f.write("not an export\n")
        made, result = self.import_into("made-by-import", garbage)
        self.assertRefusedAndEmpty(result, made, "not a Fleetkey export")

        # A directory that was there keeps what it held, and gets nothing.
        kept = os.path.join(self.work, "kept")
        os.mkdir(kept)
        with open(os.path.join(kept, "notes.txt"), "w") as f:
            f.write("mine\n")
        result = fleetkey_env({}, "import", "--data", kept, garbage)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stderr.splitlines(), ["fleetkey: import refused, nothing was imported: "
                                                      "The file is not a Fleetkey export (its first line is not JSON)."])
        self.assertEqual(os.listdir(kept), ["notes.txt"])

    def test_the_row_counts_are_one_aligned_table_with_the_total(self):
        # Issue 17: the per-table counts were fixed-width lines that ran out of line with long names.
        path, _ = self.export_fleet()
        target, result = self.import_into("target-table", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        for output in (self.exported_stderr, result.stderr):
            lines = output.splitlines()
            start = lines.index(next(l for l in lines if l.split() == ["table", "rows"]))
            table = lines[start:start + 2 + len(EXPORTED_TABLES) + 2]
            self.assertEqual(len({len(line) for line in table}), 1, "\n" + "\n".join(table))
            self.assertRegex(table[1], r"^  -+  -+$")
            rows = {line.split()[0]: int(line.split()[1].replace(",", "")) for line in table[2:-2]}
            self.assertEqual(sorted(rows), sorted(EXPORTED_TABLES))
            self.assertEqual((rows["things"], rows["certificates"], rows["access_keys"]), (1, 1, 1))
            self.assertEqual(table[-1].split(), ["total", f"{sum(rows.values()):,}"])
            self.assertFalse([line for line in table if line != line.rstrip()], "trailing blanks")

    @staticmethod
    def change_one_byte(path, change, out):
        """Changes one byte inside one value of the export, as the defect's four examples."""
        with open(path) as f:
            lines = f.read().split("\n")
        if change == "certificate-status":
            i = next(k for k, l in enumerate(lines) if l.startswith("[") and '"ACTIVE","-----BEGIN CERTIFICATE' in l)
            lines[i] = lines[i].replace('"ACTIVE"', '"aCTIVE"', 1)
        elif change == "issuing-ca-key":
            i = next(k for k, l in enumerate(lines) if l.startswith('{"table":"ca_material"')) + 1
            at = lines[i].rindex("PRIVATE KEY-----\\nMI") + len("PRIVATE KEY-----\\n") + 30
            lines[i] = lines[i][:at] + ("A" if lines[i][at] != "A" else "B") + lines[i][at + 1:]
        elif change == "access-key-secret":
            i = next(k for k, l in enumerate(lines) if l.startswith('{"table":"access_keys"')) + 1
            row = json.loads(lines[i])
            secret = row[1]
            row[1] = secret[:5] + ("A" if secret[5] != "A" else "B") + secret[6:]
            lines[i] = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
        else:
            i = next(k for k, l in enumerate(lines) if l.startswith('["sensor-7"'))
            lines[i] = lines[i].replace(",2,", ",3,", 1)
        with open(out, "w") as f:
            f.write("\n".join(lines))
        return lines

    @staticmethod
    def recompute_digest(path):
        """What someone changing the file on purpose does: the end line's SHA-256 computed again."""
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        body = b"\n".join(lines[:-2]) + b"\n"
        end = json.loads(lines[-2])
        end["sha256"] = hashlib.sha256(body).hexdigest()
        with open(path, "wb") as f:
            f.write(body + json.dumps(end, separators=(",", ":")).encode() + b"\n")

    def test_one_byte_changed_inside_a_value_is_refused_and_the_target_stays_empty(self):
        path, source = self.export_fleet()
        for change in ("certificate-status", "issuing-ca-key", "access-key-secret", "version-number"):
            with self.subTest(change=change):
                changed = os.path.join(self.work, f"{change}.jsonl")
                self.change_one_byte(path, change, changed)
                target, result = self.import_into(f"target-{change}", changed)
                self.assertRefusedAndEmpty(result, target, "SHA-256 does not match")

        # The unchanged export imports, its audit trail verifies as the source's did, and the imported fleet serves.
        target, result = self.import_into("target-ok", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(verified_trail(self, "--data", target), verified_trail(self, "--data", source.data_dir))
        node = self.start_server(fk.FleetkeyServer(data_dir=target, log_name="integrity-ok", store="sqlite"), keys_from=source)
        self.assertEqual(fk.make_client(node).describe_thing(thingName="sensor-7")["version"], 2)
        self.assertEqual(node.stop(), 0)

    def test_invalid_values_are_refused_even_with_the_digest_recomputed(self):
        # As if the source store held them: the digest matches, the product's rules refuse the rows.
        path, _ = self.export_fleet()
        cases = {
            "certificate-status": "status: 'aCTIVE' is not one of ACTIVE, INACTIVE",
            # Before: imported with exit 0, then `serve` died with PlatformNotSupportedException.
            "issuing-ca-key": "ca_material row 1: the CA material cannot be used: The issuing CA private key",
        }
        for change, expected in cases.items():
            with self.subTest(change=change):
                changed = os.path.join(self.work, f"{change}.jsonl")
                self.change_one_byte(path, change, changed)
                self.recompute_digest(changed)
                target, result = self.import_into(f"target-{change}", changed)
                self.assertRefusedAndEmpty(result, target, expected, "The export's digest matches")

    def test_with_a_passphrase_a_change_with_the_digest_recomputed_is_refused_by_the_mac(self):
        path, _ = self.export_fleet(self.PASSPHRASE)
        with open(path) as f:
            header = json.loads(f.readline())
        self.assertEqual(header["integrity"]["mac"], "hmac-sha256")
        self.assertNotIn(self.PASSPHRASE, open(path).read())
        for change in ("access-key-secret", "version-number"):
            with self.subTest(change=change):
                changed = os.path.join(self.work, f"{change}.jsonl")
                self.change_one_byte(path, change, changed)
                self.recompute_digest(changed)
                target, result = self.import_into(f"target-{change}", changed, self.PASSPHRASE)
                self.assertRefusedAndEmpty(result, target, "MAC does not verify")

        # Stripping the MAC does not help: with the passphrase set, an export without one is refused.
        stripped = os.path.join(self.work, "stripped.jsonl")
        lines = self.change_one_byte(path, "access-key-secret", stripped)
        lines[0] = json.dumps({**header, "integrity": {"digest": "sha256", "mac": None}}, separators=(",", ":"))
        end = json.loads(lines[-2])
        end.pop("hmac")
        lines[-2] = json.dumps(end, separators=(",", ":"))
        with open(stripped, "w") as f:
            f.write("\n".join(lines))
        self.recompute_digest(stripped)
        target, result = self.import_into("target-stripped", stripped, self.PASSPHRASE)
        self.assertRefusedAndEmpty(result, target, "has no MAC")

        # Without the passphrase, an export with a MAC is refused; with it, the export imports.
        target, result = self.import_into("target-nopass", path)
        self.assertRefusedAndEmpty(result, target, "set FLEETKEY_CA_PASSPHRASE")
        target, result = self.import_into("target-ok", path, self.PASSPHRASE)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_an_export_of_format_1_is_refused_with_how_to_export_again(self):
        path, _ = self.export_fleet()
        with open(path) as f:
            lines = f.read().split("\n")
        header = json.loads(lines[0])
        header["formatVersion"] = 1
        header.pop("integrity")
        lines[0] = json.dumps(header, separators=(",", ":"))
        old = os.path.join(self.work, "old.jsonl")
        with open(old, "w") as f:
            f.write("\n".join(lines))
        target, result = self.import_into("target-old", old)
        self.assertRefusedAndEmpty(result, target, "format version 1", "fleetkey export")


def fleetkey_env(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["dotnet", fk.dll_path(), *args], capture_output=True, text=True, timeout=300,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_ROOT_") and k != "FLEETKEY_CA_PASSPHRASE"}, **env})

if __name__ == "__main__":
    unittest.main()
