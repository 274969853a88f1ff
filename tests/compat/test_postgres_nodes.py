"""Several `fleetkey serve` nodes on one PostgreSQL database (issue 4).

- test_two_nodes_serve_one_fleet: one CA and one registry seen from both nodes, the seed's flow split
  across nodes, and a CreateThing race between nodes (one winner, one ResourceAlreadyExistsException).
- test_update_thing_race_between_nodes: UpdateThing from both nodes at once with the same
  expectedVersion; exactly one wins, the other gets VersionConflictException, and both nodes then
  describe the winner's attributes at version + 1.
- test_device_rates_count_across_nodes: the device endpoint's two rates (per source address, per
  serial number over authenticated attempts) are counted in the database, whichever node a device
  or an attacker reaches; wrong signatures on either node do not lock the device out.

The full seed flow for 50 serial numbers across two nodes is tests/seed/two_nodes.test.js.

Runs when FLEETKEY_TEST_POSTGRES names a PostgreSQL server (CI starts one with scripts/postgres.sh);
in CI (CI=true) a missing server is a failure, not a skip.
"""

import base64
import concurrent.futures
import json
import os
import secrets
import threading
import time
import unittest
import urllib.request

from botocore.exceptions import ClientError

from compat_base import CompatTestCase
import fleetkey_server as fk
from test_device_endpoint import device_register

POSTGRES = os.environ.get("FLEETKEY_TEST_POSTGRES")
IN_CI = os.environ.get("CI", "").lower() == "true"


@unittest.skipIf(not POSTGRES and not IN_CI, "FLEETKEY_TEST_POSTGRES is not set")
class PostgresNodesTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        if not POSTGRES:
            raise AssertionError("FLEETKEY_TEST_POSTGRES must be set in CI (scripts/postgres.sh start)")

    def start_node(self, tag, key_from=None):
        node = fk.FleetkeyServer(log_name=tag, extra_args=["--database", POSTGRES])
        if key_from is None:
            # The database outlives a test (and, locally, a run). `serve` imports the root key from
            # the environment only when its id is not in the database yet, and refuses a stored id
            # with another secret, so every first node brings an access key id of its own.
            node.access_key_id = "AKIDFKPG" + secrets.token_hex(6).upper()
        return self.start_server(node, keys_from=key_from)

    def test_two_nodes_serve_one_fleet(self):
        a = self.start_node("pg-a")
        b = self.start_node("pg-b", key_from=a)
        iot_a, iot_b = fk.make_client(a), fk.make_client(b)

        # One CA for the fleet: it lives in the database, not in a node's data directory.
        chains = [urllib.request.urlopen(n.endpoint + "/ca.pem").read() for n in (a, b)]
        self.assertEqual(chains[0], chains[1])

        thing = self.name("shared")
        created = iot_a.create_thing(thingName=thing, attributePayload={"attributes": {"site": "a"}})
        self.assertEqual(iot_b.describe_thing(thingName=thing)["thingId"], created["thingId"])

        # The seed's flow split across nodes: keys on A, RegisterThing on B, unregister on A.
        for name, iot in (("NewDevice", iot_a),):
            try:
                iot.create_thing_type(thingTypeName=name)
            except ClientError:
                pass
        for create in (lambda: iot_a.create_thing_group(thingGroupName="NewDevices"),
                       lambda: iot_a.create_policy(policyName="DefaultNewDevicePolicy", policyDocument=json.dumps(
                           {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}))):
            try:
                create()
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ResourceAlreadyExistsException")
        template = fk.seed_template()
        serial = self.name("sn")
        keys = iot_a.create_keys_and_certificate(setAsActive=True)
        result = iot_b.register_thing(templateBody=template, parameters={
            "ThingName": serial, "SerialNumber": serial, "CertificateId": keys["certificateId"]})
        self.assertEqual(set(result["resourceArns"]), {"thing", "certificate", "policy"})
        self.assertEqual(iot_a.list_thing_principals(thingName=serial)["principals"], [keys["certificateArn"]])
        iot_a.detach_thing_principal(thingName=serial, principal=keys["certificateArn"])
        iot_b.update_certificate(certificateId=keys["certificateId"], newStatus="INACTIVE")
        iot_a.delete_certificate(certificateId=keys["certificateId"], forceDelete=True)
        iot_b.delete_thing(thingName=serial)
        self.assertClientError(iot_a.describe_thing, "ResourceNotFoundException", 404, thingName=serial)

        # The database decides races between nodes: one CreateThing wins, the other is refused.
        contended = self.name("race")

        def create(args):
            iot, value = args
            try:
                iot.create_thing(thingName=contended, attributePayload={"attributes": {"writer": value}})
                return "created"
            except ClientError as e:
                return e.response["Error"]["Code"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = sorted(pool.map(create, [(iot_a, "a"), (iot_b, "b")]))
        self.assertEqual(outcomes, ["ResourceAlreadyExistsException", "created"])

        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)


    def test_device_rates_count_across_nodes(self):
        # A database of its own (dropped after): these nodes' schema must not leak into the shared one.
        database = fk.create_database()
        self.addCleanup(fk.drop_database, database)
        args = ["--device-trust-forwarded-for", "--device-rate-per-address", "4", "--device-rate-per-serial", "3"]
        a = self.start_server(fk.FleetkeyServer(log_name="pg-dev-a", database=database, extra_args=args))
        b = self.start_server(fk.FleetkeyServer(log_name="pg-dev-b", database=database, extra_args=args), keys_from=a)
        template = self.name("dev-template")[:36]
        fk.make_client(a).create_provisioning_template(
            templateName=template, provisioningRoleArn="arn:aws:iam::000000000000:role/FleetkeyProvisioning", enabled=True,
            templateBody=json.dumps({
                "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
                "Resources": {
                    "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "SerialNumber"}}},
                    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}}}}))
        serial = self.name("dev")[:60]
        status, _, raw = fk.signed_request("POST", f"/enrollments/{serial}", json.dumps({"templateName": template}).encode(), server=b)
        self.assertEqual(status, 200, raw)
        secret = json.loads(raw)["deviceSecret"]
        urls = [f"http://127.0.0.1:{n.device_port}" for n in (a, b)]
        expiry = int(time.time()) + 600
        address = "198.51.100." + str(secrets.randbelow(200) + 20)

        # Per address: four requests a minute, whichever node they reach (bad bodies count too).
        statuses = [device_register(urls[i % 2], serial, raw_body=b'{"serialNumber":"\xff"}', forwarded_for=address)[0] for i in range(5)]
        self.assertEqual(statuses, [400] * 4 + [429])

        # Wrong signatures on both nodes spend no serial budget.
        wrong = base64.b64encode(os.urandom(32)).decode()
        statuses = [device_register(urls[i % 2], serial, wrong, forwarded_for=f"203.0.113.{i + 1}")[0] for i in range(6)]
        self.assertEqual(statuses, [401] * 6)

        # Per serial: three authenticated attempts an hour, whichever node they reach.
        statuses = [device_register(urls[i % 2], serial, secret, parameters={"Undeclared": "x"}, expiry=expiry + i,
                                    forwarded_for=f"192.0.2.{i + 1}")[0] for i in range(4)]
        self.assertEqual(statuses, [400] * 3 + [429])

        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)

    def test_update_thing_race_between_nodes(self):
        a = self.start_node("pg-upd-a")
        b = self.start_node("pg-upd-b", key_from=a)
        iot_a, iot_b = fk.make_client(a), fk.make_client(b)
        thing = self.name("contended")
        iot_a.create_thing(thingName=thing, attributePayload={"attributes": {"writer": "none"}})

        # Each round both nodes update the thing with the version both just read. A barrier releases
        # the two calls together so the database, not the test's ordering, picks the winner; the
        # order the threads are started in alternates between rounds.
        rounds = 8
        winners = []
        for n in range(rounds):
            with self.subTest(round=n):
                version = iot_b.describe_thing(thingName=thing)["version"]
                self.assertEqual(iot_a.describe_thing(thingName=thing)["version"], version)
                barrier = threading.Barrier(2, timeout=30)

                def update(args):
                    node, iot = args
                    value = f"{node}-{n}"
                    barrier.wait()
                    try:
                        iot.update_thing(thingName=thing, expectedVersion=version,
                                         attributePayload={"attributes": {"writer": value}})
                        return node, value, None
                    except ClientError as e:
                        return node, value, (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])

                writers = [("a", iot_a), ("b", iot_b)]
                if n % 2:
                    writers.reverse()
                with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                    outcomes = list(pool.map(update, writers))

                succeeded = [(node, value) for node, value, error in outcomes if error is None]
                refused = [error for _, _, error in outcomes if error is not None]
                self.assertEqual(len(succeeded), 1, f"round {n}: exactly one update must win: {outcomes}")
                self.assertEqual(refused, [("VersionConflictException", 409)], f"round {n}: {outcomes}")
                winner, value = succeeded[0]
                winners.append(winner)

                # Both nodes describe the survivor's write at version + 1, and the same thing.
                seen = [iot.describe_thing(thingName=thing) for iot in (iot_a, iot_b)]
                for described in seen:
                    described.pop("ResponseMetadata")
                    self.assertEqual(described["version"], version + 1)
                    self.assertEqual(described["attributes"], {"writer": value})
                self.assertEqual(seen[0], seen[1])

        self.assertEqual(len(winners), rounds)
        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    unittest.main()
