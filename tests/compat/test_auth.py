"""SigV4 authentication as boto3 and raw HTTP clients see it."""

import datetime
import json
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk


class AuthTests(CompatTestCase):

    def test_wrong_secret_is_invalid_signature_403(self):
        # What AWS IoT answers for a bad signature: InvalidSignatureException, HTTP 403
        # (captured in aws/aws-sdk-js-v3#1569 for GetIndexingConfiguration).
        bad = fk.make_client(secret_access_key="0" * 40)
        e = self.assertClientError(bad.list_things, "InvalidSignatureException", 403)
        self.assertNotIn(self.server.secret_access_key, json.dumps(e.response, default=str))
        self.assertClientError(bad.describe_thing, "InvalidSignatureException", 403, thingName=self.name("t"))

    def test_unknown_access_key_is_unrecognized_client_403(self):
        # aws/amazon-freertos#841: `aws iot list-things` with an unknown key →
        # UnrecognizedClientException "The security token included in the request is invalid."
        stranger = fk.make_client(access_key_id="AKIDUNKNOWNFLEETKEY0", secret_access_key="0" * 40)
        self.assertClientError(stranger.list_things, "UnrecognizedClientException", 403)

    def test_any_region_signs_and_names_the_arn(self):
        # Design §2: any (AWS) region may sign; "the region in the signature is the region in the ARNs".
        other = fk.make_client(region="ap-southeast-2")
        name = self.name("t")
        created = other.create_thing(thingName=name)
        self.assertEqual(created["thingArn"], f"arn:aws:iot:ap-southeast-2:000000000000:thing/{name}")
        self.assertEqual(other.describe_thing(thingName=name)["thingArn"], created["thingArn"])

    def test_every_partitions_regions_sign(self):
        # Issue 17: a region is an AWS region when it has the shape of one partition's regions
        # (botocore data/partitions.json, regionRegex), so regions AWS opens later work too.
        for region in ("us-east-1", "il-central-1", "mx-central-1", "ap-southeast-9", "cn-north-1", "us-gov-west-1",
                       "us-iso-east-1", "us-isob-east-1", "us-isof-south-1", "eu-isoe-west-1", "eusc-de-east-1"):
            with self.subTest(region=region):
                self.assertIn("things", fk.make_client(region=region).list_things(maxResults=1))

    def test_unknown_region_is_refused(self):
        # Issue 17: before, any a-z0-9- name signed and became the region of every ARN made
        # (arn:aws:iot:not-a-region:…). AWS answers a scope it does not serve with
        # InvalidSignatureException "Credential should be scoped to a valid region".
        for region in ("not-a-region", "local", "us-east", "eu-west-1a", "xx-west-1", "aws-global"):
            with self.subTest(region=region):
                e = self.assertClientError(fk.make_client(region=region).create_thing, "InvalidSignatureException", 403,
                                           thingName=self.name(region))
                self.assertIn(f"Credential should be scoped to a valid region, not '{region}'.", e.response["Error"]["Message"])
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=self.name("not-a-region"))

    def test_aws_cli_with_an_unknown_region_is_refused(self):
        import os
        import subprocess
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.server.access_key_id, "AWS_SECRET_ACCESS_KEY": self.server.secret_access_key,
               "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1"}
        run = lambda region: subprocess.run(["aws", "iot", "list-things", "--max-results", "1", "--region", region,
                                             "--endpoint-url", self.server.endpoint], capture_output=True, text=True, timeout=120, env=env)
        refused = run("not-a-region")
        self.assertNotEqual(refused.returncode, 0, refused.stdout)
        self.assertIn("InvalidSignatureException", refused.stderr)
        self.assertIn("valid region, not 'not-a-region'", refused.stderr)
        accepted = run("eu-central-2")
        self.assertEqual(accepted.returncode, 0, accepted.stderr)

    def test_unsigned_request_is_missing_authentication_token(self):
        status, headers, body = fk.signed_request("GET", "/things", sign=False)
        self.assertEqual(status, 403)
        self.assertTrue(headers.get("x-amzn-errortype", "").startswith("MissingAuthenticationTokenException"),
                        f"x-amzn-ErrorType: {headers.get('x-amzn-errortype')!r}")
        self.assertIn("message", json.loads(body))

    def test_health_needs_no_signature(self):
        status, _, _ = fk.signed_request("GET", "/health", sign=False)
        self.assertEqual(status, 200)

    def test_tampered_body_is_invalid_signature(self):
        # The payload hash is part of the canonical request; changing the body after signing
        # must fail verification.
        name = self.name("t")
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        import urllib.request
        import urllib.error
        url = f"{self.server.endpoint}/things/{name}"
        req = AWSRequest(method="POST", url=url, data=b'{"attributePayload":{"attributes":{"a":"1"}}}',
                         headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(self.server.access_key_id, self.server.secret_access_key), "iot", fk.REGION).add_auth(req)
        tampered = b'{"attributePayload":{"attributes":{"a":"2"}}}'
        r = urllib.request.Request(url, data=tampered, method="POST", headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                self.fail(f"tampered request succeeded with HTTP {resp.status}")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 403)
            self.assertTrue(e.headers.get("x-amzn-ErrorType", "").startswith("InvalidSignatureException"),
                            e.headers.get("x-amzn-ErrorType"))
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=name)

    def test_signature_older_than_five_minutes_is_rejected(self):
        # SigV4 allows ±5 minutes of skew; AWS JSON services answer InvalidSignatureException
        # "Signature expired: ... is now earlier than ... (... - 5 min.)" (aws/aws-sdk-java#1764).
        old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
        status, headers, body = fk.signed_request("GET", "/things", at=old)
        self.assertEqual(status, 403)
        self.assertTrue(headers.get("x-amzn-errortype", "").startswith("InvalidSignatureException"),
                        f"x-amzn-ErrorType: {headers.get('x-amzn-errortype')!r}")

    def test_signature_from_the_future_is_rejected(self):
        # "Signature not yet current: ... is still later than ..." (aws/aws-sdk-js#2565).
        future = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(minutes=10)
        status, headers, _ = fk.signed_request("GET", "/things", at=future)
        self.assertEqual(status, 403)
        self.assertTrue(headers.get("x-amzn-errortype", "").startswith("InvalidSignatureException"),
                        f"x-amzn-ErrorType: {headers.get('x-amzn-errortype')!r}")

    def test_signature_within_skew_is_accepted(self):
        recent = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=3)
        status, _, body = fk.signed_request("GET", "/things?maxResults=1", at=recent)
        self.assertEqual(status, 200, body[:300])

    def test_wrong_service_in_scope_is_rejected(self):
        # Design §2: signatures are for service `iot`. A signature scoped to another service
        # must not authenticate (AWS: InvalidSignatureException "Credential should be scoped to
        # correct service", aws/aws-sdk-js#4097).
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        import urllib.request
        import urllib.error
        url = f"{self.server.endpoint}/things"
        req = AWSRequest(method="GET", url=url)
        SigV4Auth(Credentials(self.server.access_key_id, self.server.secret_access_key), "s3", fk.REGION).add_auth(req)
        r = urllib.request.Request(url, method="GET", headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(r, timeout=30) as resp:
                self.fail(f"request signed for s3 succeeded with HTTP {resp.status}")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 403)


if __name__ == "__main__":
    unittest.main()
