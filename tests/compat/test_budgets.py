"""Bounded amplification through the real control plane (issue 16, "Bound every amplification"): templates
whose intrinsics multiply their output, policy documents built to break the parser or slow the evaluator.
Each gets a 4xx naming the bound, quickly, and the server keeps answering (boto3)."""

import json
import os
import time
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk

ROLE_ARN = "arn:aws:iam::000000000000:role/FleetkeyProvisioning"


def nested_sub(depth: int) -> dict:
    """Each level uses its variable eight times: 8^depth characters from a few hundred (README: template limits)."""
    value = "xxxxxxxx"
    for _ in range(depth):
        value = {"Fn::Sub": ["${a}" * 8, {"a": value}]}
    return value


def thing_named(value) -> dict:
    return {"Parameters": {"Name": {"Type": "String"}},
            "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": value}}}}


def server_cpu_seconds() -> float | None:
    """The shared server's CPU time (user + system), or None when it is not a child of this run."""
    server = fk.shared()
    proc = getattr(server, "proc", None)
    if proc is None:
        return None
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TemplateBudgetTests(CompatTestCase):

    def assertFastInvalid(self, fn, fragment: str, **kwargs):
        started = time.monotonic()
        e = self.assertClientError(fn, "InvalidRequestException", 400, **kwargs)
        # Before the budget this template (579 characters) took the server 12 s and ran it out of memory.
        self.assertLess(time.monotonic() - started, 10, "the refusal took too long")
        self.assertIn(fragment, e.response["Error"]["Message"])
        return e

    def test_register_thing_with_nested_fn_sub_is_refused_quickly(self):
        body = json.dumps(thing_named(nested_sub(9)))
        self.assertLess(len(body), 1000)
        self.assertFastInvalid(self.iot.register_thing, "would produce a string of more than 32768 characters",
                               templateBody=body, parameters={"Name": "x"})
        # The server is still there and answering.
        self.assertIn("things", self.iot.list_things(maxResults=1))

    def test_create_provisioning_template_with_nested_fn_sub_is_refused_quickly(self):
        # A stored template is checked without parameters: literals alone amplify.
        name = self.name("amp")[:36]
        self.assertFastInvalid(self.iot.create_provisioning_template, "would produce a string of more than 32768",
                               templateName=name, templateBody=json.dumps(thing_named(nested_sub(12))),
                               provisioningRoleArn=ROLE_ARN)
        self.assertClientError(self.iot.describe_provisioning_template, "ResourceNotFoundException", 404, templateName=name)

    def test_register_thing_repeating_a_long_parameter_hits_the_step_budget(self):
        # 300 Refs of a 4096-character value: 1.2 M steps of the 1,000,000 allowed.
        template = {"Parameters": {"A": {"Type": "String"}}, "Resources": {},
                    "DeviceConfiguration": {f"k{i}": {"Ref": "A"} for i in range(300)}}
        self.assertFastInvalid(self.iot.register_thing, "takes more than 1000000 steps",
                               templateBody=json.dumps(template), parameters={"A": "a" * 4096})

    def test_template_with_an_escaped_lone_surrogate_is_invalid_not_500(self):
        # "\ud800" as JSON escape text inside the template body: System.Text.Json threw
        # InvalidOperationException when reading it, a 500.
        body = '{"Resources":{},"DeviceConfiguration":{"a":"\\ud800"}}'
        self.assertFastInvalid(self.iot.register_thing, "not valid", templateBody=body)


class PolicyBudgetTests(CompatTestCase):

    def statement(self, resource: str, sid: str = "s") -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": {
            "Sid": sid, "Effect": "Allow", "Action": "iot:Publish", "Resource": resource}})

    def test_policy_with_an_escaped_lone_surrogate_is_malformed_not_500(self):
        # The document is a string inside the request's JSON, so its own escapes reach the parser.
        document = self.statement("*").replace('"Sid": "s"', '"Sid": "\\ud800"')
        self.assertIn("\\ud800", document)
        e = self.assertClientError(self.iot.create_policy, "MalformedPolicyException", 400,
                                   policyName=self.name("sur"), policyDocument=document)
        self.assertIn("Invalid policy syntax", e.response["Error"]["Message"])

    def test_whitespace_padded_resource_over_2048_characters_is_malformed(self):
        # Whitespace is free under the 2048 limit, so a resource could otherwise be 400 KB of spaces.
        resource = "arn:aws:iot:eu-west-1:000000000000:topic/a" + " " * 2100 + "*b"
        e = self.assertClientError(self.iot.create_policy, "MalformedPolicyException", 400,
                                   policyName=self.name("ws"), policyDocument=self.statement(resource))
        self.assertIn("at most 2048 are allowed", e.response["Error"]["Message"])

    def test_repeated_key_in_policy_is_malformed(self):
        document = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"iot:*","Resource":"*"}}'
        e = self.assertClientError(self.iot.create_policy, "MalformedPolicyException", 400,
                                   policyName=self.name("dup"), policyDocument=document)
        self.assertIn("twice", e.response["Error"]["Message"])

    def test_test_authorization_on_an_adversarial_pattern_stays_cheap(self):
        # A pattern with a 1,000-character segment between wildcards against 400 topics of 2,000
        # characters of 'a': backtracking tried the segment at each of 1,000 places per resource (a
        # million comparisons each; 0.55 s of server CPU for this request before the linear matcher,
        # 0.2 s after, most of it reading the 800 KB request). Resources are at most 2,048 characters
        # here (model); the unit tests measure the broker's case, topics of up to 64 KB.
        resource = "arn:aws:iot:*:*:topic/*" + "a" * 1000 + "b*"
        policy = self.name("adv")
        self.iot.create_policy(policyName=policy, policyDocument=self.statement(resource))
        cert = self.iot.create_keys_and_certificate(setAsActive=True)
        self.iot.attach_policy(policyName=policy, target=cert["certificateArn"])
        topic = f"arn:aws:iot:{fk.REGION}:{fk.ACCOUNT_ID}:topic/" + "a" * 1990
        auth_infos = [{"actionType": "PUBLISH", "resources": [topic] * 40} for _ in range(10)]

        cpu = server_cpu_seconds()
        answer = self.iot.test_authorization(principal=cert["certificateArn"], authInfos=auth_infos)
        spent = None if cpu is None else server_cpu_seconds() - cpu

        self.assertEqual({r["authDecision"] for r in answer["authResults"]}, {"IMPLICIT_DENY"})
        if spent is not None:
            print(f"\n[budgets] TestAuthorization of 400 adversarial resources: {spent:.2f} s of server CPU", flush=True)
            self.assertLess(spent, 0.8, f"TestAuthorization took {spent:.2f} s of server CPU")


if __name__ == "__main__":
    unittest.main()
