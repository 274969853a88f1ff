"""The rest-json wire format as raw HTTP shows it, plus DescribeEndpoint."""

import json
import re
import time
import unittest
import urllib.parse

from compat_base import CompatTestCase
import fleetkey_server as fk


class ErrorWireFormatTests(CompatTestCase):

    def test_missing_thing_error_shape(self):
        # aws-iot-facts.md §2 (captured AWS IoT response, aws-amplify/aws-sdk-ios#720):
        #   404, x-amzn-ErrorType: ResourceNotFoundException:, x-amzn-RequestId, {"message": ...}
        status, headers, body = fk.signed_request("GET", "/things/" + self.name("missing"))
        self.assertEqual(status, 404)
        self.assertRegex(headers.get("x-amzn-errortype", ""), r"^ResourceNotFoundException(:.*)?$")
        self.assertTrue(headers.get("x-amzn-requestid"), "x-amzn-RequestId header missing")
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers.get("content-type"))
        doc = json.loads(body)
        self.assertIsInstance(doc.get("message"), str)
        self.assertTrue(doc["message"])
        # aws-sdk-js v2 and the .NET SDK let a body __type/code win over the header, so if present
        # they must name the same error.
        for key in ("__type", "code"):
            if key in doc:
                self.assertEqual(doc[key].split("#")[-1].split(":")[0], "ResourceNotFoundException", key)

    def test_request_ids_differ_between_requests(self):
        ids = {fk.signed_request("GET", "/things/" + self.name("missing"))[1].get("x-amzn-requestid") for _ in range(3)}
        self.assertEqual(len(ids), 3, ids)

    def test_boto3_surfaces_code_message_and_request_id(self):
        e = self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404,
                                   thingName=self.name("missing"))
        self.assertTrue(e.response["Error"]["Message"])
        self.assertTrue(e.response["ResponseMetadata"].get("RequestId"))
        # boto3's modeled exception class matches too.
        with self.assertRaises(self.iot.exceptions.ResourceNotFoundException):
            self.iot.describe_thing(thingName=self.name("missing"))

    def test_resource_already_exists_carries_resource_id_and_arn(self):
        # ResourceAlreadyExistsException has members resourceId and resourceArn (model); botocore
        # copies modeled members of the error body into the response.
        name = self.name("t")
        created = self.create_thing(name, {"a": "1"})
        e = self.assertClientError(self.create_thing, "ResourceAlreadyExistsException", 409, name, {"a": "2"})
        self.assertEqual(e.response.get("resourceArn"), created["thingArn"])
        if "resourceId" in e.response:  # which id AWS puts here is not documented; the thing's id fits
            self.assertEqual(e.response["resourceId"], created["thingId"])

    def test_validation_error_status_header_and_message(self):
        status, headers, body = fk.signed_request("POST", "/things/" + urllib.parse.quote("bad name!", safe=""),
                                                  body=b"{}")
        self.assertEqual(status, 400)
        self.assertRegex(headers.get("x-amzn-errortype", ""), r"^InvalidRequestException(:.*)?$")
        self.assertIn("thingName", json.loads(body)["message"])

    def test_malformed_json_body_is_a_400(self):
        # Which code AWS uses for unparseable JSON is not documented for IoT; only the status and
        # the presence of an AWS error type are asserted.
        status, headers, body = fk.signed_request("POST", "/things/" + self.name("t"), body=b'{"attributePayload": ')
        self.assertEqual(status, 400, body[:300])
        self.assertTrue(headers.get("x-amzn-errortype"), "error without x-amzn-ErrorType")
        self.assertIn("message", json.loads(body))

    def test_wrong_json_type_is_invalid_request(self):
        # attributePayload.attributes must be a map of strings (model).
        status, headers, body = fk.signed_request(
            "POST", "/things/" + self.name("t"), body=b'{"attributePayload": {"attributes": ["a", "b"]}}')
        self.assertEqual(status, 400, body[:300])
        self.assertRegex(headers.get("x-amzn-errortype", ""), r"^InvalidRequestException(:.*)?$")

    def test_oversized_body_is_rejected(self):
        # Issue 2: bodies over a bound → a clear 413/400. 2 MiB is far beyond any registry request.
        big = json.dumps({"attributePayload": {"attributes": {"a": "x" * (2 * 1024 * 1024)}}}).encode()
        try:
            # With Expect: 100-continue (curl sends it for large bodies): the server refuses the body unread,
            # and a client still writing it when the server closes would see a reset instead of the answer.
            status, headers, body = fk.signed_request("POST", "/things/" + self.name("t"), body=big, expect_continue=True)
        except OSError as e:  # a server may close the connection right after answering 413
            self.fail(f"connection failed instead of a 413/400 answer: {e!r}")
        self.assertIn(status, (400, 413), body[:300])
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=self.name("t"))

    def test_unknown_route_is_not_a_server_error(self):
        status, headers, body = fk.signed_request("GET", "/no-such-route/at-all")
        self.assertGreaterEqual(status, 400)
        self.assertLess(status, 500, body[:300])


class TimestampTests(CompatTestCase):

    def test_timestamps_are_epoch_seconds_on_the_wire(self):
        # Timestamp shapes have no timestampFormat → rest-json default unixtimestamp, a JSON
        # number of seconds (aws-iot-facts.md §1; awscli examples show "creationDate": 1559772562.498).
        tt = self.name("type")
        self.create_type(tt)
        self.iot.deprecate_thing_type(thingTypeName=tt)
        status, _, body = fk.signed_request("GET", f"/thing-types/{tt}")
        self.assertEqual(status, 200, body[:300])
        meta = json.loads(body)["thingTypeMetadata"]
        for field in ("creationDate", "deprecationDate"):
            self.assertIn(field, meta)
            value = meta[field]
            self.assertIsInstance(value, (int, float), f"{field} is {value!r}, not epoch seconds")
            self.assertNotIsInstance(value, bool)
            self.assertLess(abs(time.time() - value), 600, f"{field}={value} is not seconds since the epoch")

        g = self.name("g")
        self.create_group(g)
        status, _, body = fk.signed_request("GET", f"/thing-groups/{g}")
        self.assertEqual(status, 200, body[:300])
        created = json.loads(body)["thingGroupMetadata"]["creationDate"]
        self.assertIsInstance(created, (int, float))
        self.assertLess(abs(time.time() - created), 600)

    def test_boto3_parses_datetimes(self):
        tt, g = self.name("type"), self.name("g")
        self.create_type(tt)
        self.create_group(g)
        self.assertRecentDatetime(self.iot.describe_thing_type(thingTypeName=tt)["thingTypeMetadata"]["creationDate"])
        self.assertRecentDatetime(self.iot.describe_thing_group(thingGroupName=g)["thingGroupMetadata"]["creationDate"])

    def test_json_bodies_use_model_member_names(self):
        # camelCase as the model names them; no PascalCase or snake_case leaks.
        name = self.name("t")
        self.create_thing(name, {"a": "1"})
        status, _, body = fk.signed_request("GET", f"/things/{name}")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        allowed = {"defaultClientId", "thingName", "thingId", "thingArn", "thingTypeName", "attributes",
                   "version", "billingGroupName"}
        self.assertTrue(set(doc) <= allowed, f"unexpected members {set(doc) - allowed}")
        self.assertTrue({"defaultClientId", "thingName", "thingId", "thingArn", "attributes", "version"} <= set(doc))
        self.assertIsInstance(doc["version"], int)


class DescribeEndpointTests(CompatTestCase):

    def test_data_ats_and_data_return_the_public_host(self):
        for endpoint_type in ("iot:Data-ATS", "iot:Data"):
            with self.subTest(endpointType=endpoint_type):
                resp = self.iot.describe_endpoint(endpointType=endpoint_type)
                self.assertEqual(resp["endpointAddress"], fk.PUBLIC_HOST)

    def test_without_endpoint_type(self):
        # endpointType is optional (model); AWS then answers the legacy iot:Data endpoint
        # (awscli examples/iot/describe-endpoint.rst, example 1).
        self.assertEqual(self.iot.describe_endpoint()["endpointAddress"], fk.PUBLIC_HOST)

    def test_unknown_endpoint_type_is_invalid_request(self):
        # moto: "Endpoint type %s not recognized." (InvalidRequestException). Unconfirmed on AWS.
        self.assertClientError(self.iot.describe_endpoint, "InvalidRequestException", 400,
                               endpointType="iot:NoSuchThing")


if __name__ == "__main__":
    unittest.main()
