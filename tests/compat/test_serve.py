"""`fleetkey serve` as a process: SIGTERM, restart on the same data dir, generated credentials.

These tests start private servers (not the shared one) because they stop and restart them.
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

    def start(self, server):
        try:
            server.start()
        except fk.ServerStartError as e:
            self.fail(str(e))
        self.addCleanup(server.cleanup)
        return server

    def assertStopsCleanly(self, server):
        rc = server.stop()
        self.assertIsNotNone(rc, f"did not exit within {fk.STOP_TIMEOUT:.0f}s of SIGTERM\n{server.log_tail()}")
        self.assertEqual(rc, 0, f"exit code {rc} after SIGTERM\n{server.log_tail()}")

    def test_restart_on_same_data_dir_keeps_everything(self):
        # Issue 2: "A second start on the same directory keeps everything. Ctrl-C / SIGTERM shuts
        # down cleanly."
        first = self.start(fk.FleetkeyServer(log_name="restart"))
        iot = fk.make_client(first)
        thing, group, tt = self.name("t"), self.name("g"), self.name("type")
        iot.create_thing_type(thingTypeName=tt, thingTypeProperties={"thingTypeDescription": "kept"})
        created = iot.create_thing(thingName=thing, thingTypeName=tt, attributePayload={"attributes": {"a": "1"}})
        iot.create_thing_group(thingGroupName=group, tags=[{"Key": "k", "Value": "v"}])
        iot.add_thing_to_thing_group(thingGroupName=group, thingName=thing)
        iot.update_thing(thingName=thing, attributePayload={"attributes": {"b": "2"}, "merge": True})
        self.assertStopsCleanly(first)

        # Second start without the root-key environment: the keys live in the store now.
        second = fk.FleetkeyServer(data_dir=first.data_dir, root_keys=False, log_name="restart2")
        second.access_key_id, second.secret_access_key = first.access_key_id, first.secret_access_key
        self.start(second)
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

    def test_generated_root_credentials(self):
        # Design §2: without FLEETKEY_ROOT_* the first start generates a root key and writes it to
        # DIR/credentials in the AWS shared-credentials format under [default], mode 0600.
        server = self.start(fk.FleetkeyServer(root_keys=False, log_name="gencreds"))
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


if __name__ == "__main__":
    unittest.main()
