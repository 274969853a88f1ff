"""`fleetkey serve` as a process: SIGTERM, restart on the same data dir, generated credentials.

These tests start private servers (not the shared one) because they stop and restart them. On the
PostgreSQL pass (FLEETKEY_TEST_STORE=postgres) each first server gets a fresh database; a restart
passes it on, as an operator restarts a node with the same --data and --database.
"""

import os
import stat
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server processes")
class ServeProcessTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        # No shared server needed here.
        pass

    def assertStopsCleanly(self, server):
        rc = server.stop()
        self.assertIsNotNone(rc, f"did not exit within {fk.STOP_TIMEOUT:.0f}s of SIGTERM\n{server.log_tail()}")
        self.assertEqual(rc, 0, f"exit code {rc} after SIGTERM\n{server.log_tail()}")

    def test_restart_on_same_data_dir_keeps_everything(self):
        # Issue 2: "A second start on the same directory keeps everything. Ctrl-C / SIGTERM shuts
        # down cleanly."
        first = self.start_server(fk.FleetkeyServer(log_name="restart"))
        iot = fk.make_client(first)
        thing, group, tt = self.name("t"), self.name("g"), self.name("type")
        iot.create_thing_type(thingTypeName=tt, thingTypeProperties={"thingTypeDescription": "kept"})
        created = iot.create_thing(thingName=thing, thingTypeName=tt, attributePayload={"attributes": {"a": "1"}})
        iot.create_thing_group(thingGroupName=group, tags=[{"Key": "k", "Value": "v"}])
        iot.add_thing_to_thing_group(thingGroupName=group, thingName=thing)
        iot.update_thing(thingName=thing, attributePayload={"attributes": {"b": "2"}, "merge": True})
        self.assertStopsCleanly(first)

        # Second start without the root-key environment: the keys live in the store now.
        second = fk.FleetkeyServer(data_dir=first.data_dir, database=first.database, root_keys=False, log_name="restart2")
        second.access_key_id, second.secret_access_key = first.access_key_id, first.secret_access_key
        self.start_server(second)
        iot = fk.make_client(second)
        d = iot.describe_thing(thingName=thing)
        self.assertEqual(d["thingId"], created["thingId"])
        self.assertEqual(d["attributes"], {"a": "1", "b": "2"})
        self.assertEqual(d["version"], 2)
        self.assertEqual(d["thingTypeName"], tt)
        self.assertEqual(iot.describe_thing_type(thingTypeName=tt)["thingTypeProperties"]["thingTypeDescription"], "kept")
        self.assertEqual(iot.list_things_in_thing_group(thingGroupName=group)["things"], [thing])
        arn = iot.describe_thing_group(thingGroupName=group)["thingGroupArn"]
        self.assertEqual(iot.list_tags_for_resource(resourceArn=arn)["tags"], [{"Key": "k", "Value": "v"}])
        self.assertStopsCleanly(second)

    def test_root_key_from_environment_with_a_different_secret_is_refused(self):
        # The root key id is already stored with another secret: serve must neither replace it
        # (locking out clients that use the stored one) nor keep it silently (the environment's
        # secret would then fail every request).
        first = self.start_server(fk.FleetkeyServer(log_name="rootkey"))
        self.assertStopsCleanly(first)
        second = fk.FleetkeyServer(data_dir=first.data_dir, database=first.database, log_name="rootkey2")
        second.access_key_id = first.access_key_id
        self.addCleanup(second.cleanup)
        with self.assertRaises(fk.ServerStartError) as refused:
            second.start()
        self.assertIn("already stored with a different secret", str(refused.exception))
        self.assertNotIn(second.secret_access_key, str(refused.exception))
        self.assertNotIn(first.secret_access_key, str(refused.exception))

        # The stored secret still works.
        third = fk.FleetkeyServer(data_dir=first.data_dir, database=first.database, log_name="rootkey3")
        third.access_key_id, third.secret_access_key = first.access_key_id, first.secret_access_key
        self.start_server(third)
        self.assertEqual(fk.make_client(third).list_things()["things"], [])
        self.assertStopsCleanly(third)

    def test_generated_root_credentials(self):
        # Design §2: without FLEETKEY_ROOT_* the first start generates a root key and writes it to
        # DIR/credentials in the AWS shared-credentials format under [default], mode 0600.
        server = self.start_server(fk.FleetkeyServer(root_keys=False, log_name="gencreds"))
        path = os.path.join(server.data_dir, "credentials")
        self.assertTrue(os.path.isfile(path), f"{path} was not written")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, "credentials file must be mode 0600")
        key_id, secret = server.generated_credentials()
        self.assertTrue(key_id and secret)
        server.access_key_id, server.secret_access_key = key_id, secret
        iot = fk.make_client(server)
        self.assertIn("things", iot.list_things(maxResults=1))
        # A wrong secret for the generated key still fails.
        bad = fk.make_client(server, secret_access_key=secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        self.assertClientError(bad.list_things, "InvalidSignatureException", 403)
        self.assertStopsCleanly(server)


    def test_keys_create_list_delete_while_serving(self):
        # Issue 2: "Access keys live in the store; `fleetkey keys create|list|delete` manages them."
        # The CLI works on the data directory of a running server; the server sees the change at once
        # (the policy attached, then the key deleted).
        import subprocess
        server = self.start_server(fk.FleetkeyServer(log_name="keys"))

        store = ["--database", server.database] if server.database else []

        def keys(*args):
            return subprocess.run(["dotnet", fk.dll_path(), "keys", *args, "--data", server.data_dir, *store],
                                  capture_output=True, text=True, timeout=120)

        created = keys("create", "--description", "compat")
        self.assertEqual(created.returncode, 0, created.stderr)
        values = dict(line.split(" = ", 1) for line in created.stdout.splitlines() if " = " in line)
        key_id, secret = values["aws_access_key_id"], values["aws_secret_access_key"]
        self.assertRegex(key_id, r"^AKIA[A-Z2-7]{16}$")
        self.assertEqual(len(secret), 40)

        listed = keys("list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn(key_id, listed.stdout)
        self.assertNotIn(secret, listed.stdout, "list must never show a secret again")

        # Issue 20: a key made without --policy may do nothing until a policy is attached.
        self.assertIn(f"{key_id} has no policy, so it may do nothing yet", created.stderr)
        iot = fk.make_client(server, access_key_id=key_id, secret_access_key=secret)
        refused = self.assertClientError(lambda: iot.list_things(maxResults=1), "AccessDeniedException", 403)
        self.assertEqual(refused.response["Error"]["Message"],
                         f"User: arn:aws:iam::{fk.ACCOUNT_ID}:user/{key_id} is not authorized to perform: iot:ListThings "
                         "because no identity-based policy allows the iot:ListThings action")
        attached = keys("attach-policy", key_id, "read-only")
        self.assertEqual(attached.returncode, 0, attached.stderr)
        self.assertIn("things", iot.list_things(maxResults=1))

        deleted = keys("delete", key_id)
        self.assertEqual(deleted.returncode, 0, deleted.stderr)
        self.assertClientError(lambda: iot.list_things(maxResults=1), "UnrecognizedClientException", 403)
        self.assertNotEqual(keys("delete", key_id).returncode, 0, "deleting an unknown key must fail")
        self.assertStopsCleanly(server)

    def test_ca_passphrase_encrypts_ca_keys_and_is_needed_to_start(self):
        # Issue 3: "With FLEETKEY_CA_PASSPHRASE set, CA private keys are stored encrypted (PKCS#8);
        # they are never logged."
        import glob
        import urllib.request
        passphrase = "correct horse battery staple"
        first = self.start_server(fk.FleetkeyServer(log_name="ca-pass", extra_env={"FLEETKEY_CA_PASSPHRASE": passphrase}))
        if first.database:
            # On PostgreSQL the CA lives in the database (shared by every node), not in --data.
            self.assertFalse(os.path.exists(os.path.join(first.data_dir, "ca")), "the CA must not be written to --data")
            keys = [(f"ca_material.{column}", text) for column, text in zip(
                ("root_key_pem", "issuing_key_pem"),
                fk.query_database(first.database, "SELECT root_key_pem, issuing_key_pem FROM ca_material").split("|"))]
        else:
            keys = []
            for path in sorted(glob.glob(os.path.join(first.data_dir, "ca", "*.key"))):
                with open(path) as f:
                    keys.append((path, f.read()))
        self.assertEqual(len(keys), 2, f"expected root and issuing keys in {first.database or first.data_dir + '/ca'}")
        for where, text in keys:
            self.assertIn("-----BEGIN ENCRYPTED PRIVATE KEY-----", text, where)
            self.assertNotIn("-----BEGIN PRIVATE KEY-----", text, where)
        with urllib.request.urlopen(first.endpoint + "/ca.pem") as r:
            chain = r.read()
        fk.make_client(first).create_keys_and_certificate(setAsActive=True)
        self.assertStopsCleanly(first)
        with open(first.log_path, encoding="utf-8", errors="replace") as f:
            self.assertNotIn(passphrase, f.read(), "the passphrase must never reach the log")

        # Without the passphrase (or with a wrong one) the CA cannot be unlocked: the server refuses to start.
        for env, tag in (({}, "ca-nopass"), ({"FLEETKEY_CA_PASSPHRASE": "wrong"}, "ca-wrong")):
            locked = fk.FleetkeyServer(data_dir=first.data_dir, database=first.database, root_keys=False, log_name=tag,
                                       extra_env=env)
            self.addCleanup(locked.cleanup)
            with self.assertRaises(fk.ServerStartError):
                locked.start(timeout=60)

        again = fk.FleetkeyServer(data_dir=first.data_dir, database=first.database, root_keys=False, log_name="ca-again",
                                  extra_env={"FLEETKEY_CA_PASSPHRASE": passphrase})
        again.access_key_id, again.secret_access_key = first.access_key_id, first.secret_access_key
        self.start_server(again)
        with urllib.request.urlopen(again.endpoint + "/ca.pem") as r:
            self.assertEqual(r.read(), chain, "the same CA serves after a restart")
        self.assertStopsCleanly(again)

    def test_device_key_algorithm_ec_p256(self):
        # Issue 3: "server-side key generation (RSA-2048 by default, as AWS does;
        # --device-key-algorithm ec-p256|rsa-2048)".
        server = self.start_server(fk.FleetkeyServer(log_name="ec-keys", extra_args=["--device-key-algorithm", "ec-p256"]))
        created = fk.make_client(server).create_keys_and_certificate(setAsActive=False)
        self.assertIn("-----BEGIN EC PRIVATE KEY-----", created["keyPair"]["PrivateKey"])
        self.assertStopsCleanly(server)


    def test_migrate_applies_schema_once_then_serve_keeps_it(self):
        # Issue 4: "`fleetkey migrate` (apply migrations and exit)".
        import subprocess
        import tempfile
        data_dir = tempfile.mkdtemp(prefix="fleetkey-compat-migrate-")
        self.addCleanup(lambda: __import__("shutil").rmtree(data_dir, ignore_errors=True))
        database = None
        if fk.store() == "postgres":
            database = fk.create_database()
            self.addCleanup(fk.drop_database, database)
        store = ["--database", database] if database else []

        def migrate():
            return subprocess.run(["dotnet", fk.dll_path(), "migrate", "--data", data_dir, *store],
                                  capture_output=True, text=True, timeout=120)

        first, second = migrate(), migrate()
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("applied migrations 1, 2", first.stdout)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("schema is up to date", second.stdout)
        server = self.start_server(fk.FleetkeyServer(data_dir=data_dir, database=database, log_name="migrated"))
        fk.make_client(server).create_thing(thingName=self.name("after-migrate"))
        self.assertStopsCleanly(server)

    # ------------------------------------------------------------------ damaged stored material (issue 16)

    def assertRefusesToStart(self, server, *expected):
        """The start fails with exit 2 and one line `fleetkey: ...` naming what is wrong; no stack trace."""
        self.addCleanup(server.cleanup)
        with self.assertRaises(fk.ServerStartError):
            server.start(timeout=60)
        self.assertEqual(server.proc.returncode, 2, server.log_tail())
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            output = f.read().split("\n=== ", 1)[1].split("\n", 1)[1]
        self.assertNotIn("Unhandled exception", output)
        self.assertNotRegex(output, r"(?m)^\s+at ", "a stack trace")
        errors = [line for line in output.splitlines() if line.startswith("fleetkey: ")]
        self.assertEqual(len(errors), 1, output)
        for text in expected:
            self.assertIn(text, errors[0])
        return errors[0]

    def damaged_copy(self, source_dir, tag):
        import shutil
        import tempfile
        copy = tempfile.mkdtemp(prefix=f"fleetkey-compat-{tag}-")
        self.addCleanup(shutil.rmtree, copy, True)
        shutil.copytree(source_dir, copy, dirs_exist_ok=True)
        return copy

    @staticmethod
    def flip_base64(path, line=1, column=30):
        """Changes one base64 character of a PEM file (column 30 of the first line of a P-256 PKCS#8
        key is inside the curve's OID: the platform then threw PlatformNotSupportedException)."""
        with open(path) as f:
            lines = f.read().split("\n")
        chars = list(lines[line])
        chars[column] = "A" if chars[column] != "A" else "B"
        lines[line] = "".join(chars)
        with open(path, "w") as f:
            f.write("\n".join(lines))

    @unittest.skipIf(fk.store() == "postgres", "the CA and the database are files of the data directory on SQLite")
    def test_damaged_ca_files_or_database_stop_serve_with_one_line(self):
        first = self.start_server(fk.FleetkeyServer(log_name="damage-source"))
        self.assertStopsCleanly(first)
        ca = lambda d, name: os.path.join(d, "ca", name)

        # Before: "Unhandled exception: System.PlatformNotSupportedException: The specified curve ...".
        d = self.damaged_copy(first.data_dir, "curve")
        self.flip_base64(ca(d, "issuing.key"))
        self.assertRefusesToStart(fk.FleetkeyServer(data_dir=d, log_name="damage-curve"),
                                  os.path.join(d, "ca"), "issuing CA private key is not a readable PEM private key")

        d = self.damaged_copy(first.data_dir, "cert")
        self.flip_base64(ca(d, "issuing.pem"), column=10)
        self.assertRefusesToStart(fk.FleetkeyServer(data_dir=d, log_name="damage-cert"), os.path.join(d, "ca"), "issuing CA")

        d = self.damaged_copy(first.data_dir, "swapped")
        os.replace(ca(d, "root.key"), ca(d, "issuing.key"))
        with open(ca(d, "root.key"), "w") as f:
            f.write("not a key\n")
        self.assertRefusesToStart(fk.FleetkeyServer(data_dir=d, log_name="damage-swapped"),
                                  "The issuing CA private key does not belong to the issuing CA certificate")

        d = self.damaged_copy(first.data_dir, "unreadable")
        os.remove(ca(d, "issuing.key"))
        os.mkdir(ca(d, "issuing.key"))
        self.assertRefusesToStart(fk.FleetkeyServer(data_dir=d, log_name="damage-unreadable"), os.path.join(d, "ca"), "issuing.key")

        d = self.damaged_copy(first.data_dir, "database")
        for suffix in ("-wal", "-shm"):
            if os.path.exists(os.path.join(d, "fleetkey.db" + suffix)):
                os.remove(os.path.join(d, "fleetkey.db" + suffix))
        with open(os.path.join(d, "fleetkey.db"), "r+b") as f:
            f.write(b"this is no database header")
        self.assertRefusesToStart(fk.FleetkeyServer(data_dir=d, log_name="damage-db"), os.path.join(d, "fleetkey.db"), "not a database")

    def test_damaged_ca_in_the_store_or_wrong_passphrase_stop_serve_with_one_line(self):
        passphrase = "correct horse battery staple"
        first = self.start_server(fk.FleetkeyServer(log_name="damage-pass", extra_env={"FLEETKEY_CA_PASSPHRASE": passphrase}))
        self.assertStopsCleanly(first)

        wrong = fk.FleetkeyServer(data_dir=first.data_dir, database=first.database, root_keys=False, log_name="damage-wrong-pass",
                                  extra_env={"FLEETKEY_CA_PASSPHRASE": "wrong"})
        line = self.assertRefusesToStart(wrong, "passphrase does not decrypt the issuing CA private key")
        self.assertNotIn(passphrase, line)

        # The issuing key's ciphertext damaged: the right passphrase no longer opens it.
        if first.database:
            pem = fk.query_database(first.database, "SELECT issuing_key_pem FROM ca_material")
            lines = pem.split("\n")
            lines[3] = ("A" if lines[3][5] != "A" else "B").join([lines[3][:5], lines[3][6:]])
            fk.query_database(first.database, "UPDATE ca_material SET issuing_key_pem = '" + "\n".join(lines) + "'")
            where = "the database (table ca_material)"
        else:
            self.flip_base64(os.path.join(first.data_dir, "ca", "issuing.key"), line=3, column=5)
            where = os.path.join(first.data_dir, "ca")
        damaged = fk.FleetkeyServer(data_dir=first.data_dir, database=first.database, root_keys=False, log_name="damage-cipher",
                                    extra_env={"FLEETKEY_CA_PASSPHRASE": passphrase})
        self.assertRefusesToStart(damaged, where, "issuing CA private key")

    def test_unwritable_credentials_path_stops_serve_with_one_line(self):
        import tempfile
        import shutil
        data_dir = tempfile.mkdtemp(prefix="fleetkey-compat-creds-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        os.mkdir(os.path.join(data_dir, "credentials"))
        server = fk.FleetkeyServer(data_dir=data_dir, root_keys=False, log_name="damage-creds")
        self.assertRefusesToStart(server, "Cannot write the generated root access key to " + os.path.join(data_dir, "credentials"))


if __name__ == "__main__":
    unittest.main()
