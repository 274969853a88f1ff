"""IoT policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, policy versions, AttachPolicy /
DetachPolicy on certificates and thing groups, ListAttachedPolicies, ListTargetsForPolicy,
GetEffectivePolicies (boto3)."""

import json
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk


def document(action: str = "iot:Connect", resource: str = "*", effect: str = "Allow") -> str:
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]})


DEVICE_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": "arn:aws:iot:eu-west-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": "arn:aws:iot:eu-west-1:000000000000:topic/devices/${iot:Connection.Thing.ThingName}/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": "arn:aws:iot:eu-west-1:000000000000:topicfilter/devices/${iot:Connection.Thing.ThingName}/*"},
        {"Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:eu-west-1:000000000000:topic/admin/*",
         "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "false"}}},
    ],
})


class PolicyTestCase(CompatTestCase):

    def policy(self, suffix: str = "p", doc: str | None = None) -> str:
        name = self.name(suffix)
        self.iot.create_policy(policyName=name, policyDocument=doc or document())
        return name

    def cert(self, active: bool = True) -> dict:
        return self.iot.create_keys_and_certificate(setAsActive=active)

    def attached(self, target: str, **kwargs) -> list[str]:
        out, marker = [], None
        while True:
            page = self.iot.list_attached_policies(target=target, **kwargs, **({"marker": marker} if marker else {}))
            out.extend(p["policyName"] for p in page["policies"])
            marker = page.get("nextMarker")
            if not marker:
                return out

    def targets(self, policy: str) -> list[str]:
        return self.all_pages("list_targets_for_policy", "targets", policyName=policy)


class CreateGetDeletePolicyTests(PolicyTestCase):

    def test_create_returns_name_arn_document_and_version_1(self):
        name = self.name("p")
        r = self.iot.create_policy(policyName=name, policyDocument=DEVICE_POLICY)
        self.assertEqual(r["policyName"], name)
        self.assertEqual(r["policyArn"], fk.arn("policy", name))
        self.assertEqual(r["policyDocument"], DEVICE_POLICY)
        # Model doc: "This operation creates a policy version with a version identifier of 1 and sets 1
        # as the policy's default version."
        self.assertEqual(r["policyVersionId"], "1")

    def test_get_policy(self):
        name = self.policy(doc=DEVICE_POLICY)
        g = self.iot.get_policy(policyName=name)
        self.assertEqual(g["policyName"], name)
        self.assertEqual(g["policyArn"], fk.arn("policy", name))
        self.assertEqual(g["policyDocument"], DEVICE_POLICY)
        self.assertEqual(g["defaultVersionId"], "1")
        self.assertRecentDatetime(g["creationDate"], "creationDate")
        self.assertRecentDatetime(g["lastModifiedDate"], "lastModifiedDate")
        self.assertIsInstance(g["generationId"], str)
        self.assertTrue(g["generationId"])

    def test_duplicate_name_is_resource_already_exists(self):
        # CreatePolicy declares ResourceAlreadyExistsException, HTTP 409 (model).
        name = self.policy()
        self.assertClientError(self.iot.create_policy, "ResourceAlreadyExistsException", 409,
                               policyName=name, policyDocument=document())

    def test_malformed_documents_are_malformed_policy_exception(self):
        # CreatePolicy declares MalformedPolicyException, HTTP 400 (model); AWS's messages read
        # "Policy document is Malformed ..." (issue 3: "MalformedPolicyException with a reason").
        cases = {
            "not json": "{not json",
            "no Statement": json.dumps({"Version": "2012-10-17"}),
            "bad Effect": document(effect="Maybe"),
            "no Action": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
            "no Resource": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect"}]}),
            "array root": "[]",
            "bad Version": json.dumps({"Version": "2020-01-01", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}),
        }
        for why, doc in cases.items():
            with self.subTest(why=why):
                name = self.name("bad")
                e = self.assertClientError(self.iot.create_policy, "MalformedPolicyException", 400,
                                           policyName=name, policyDocument=doc)
                self.assertTrue(e.response["Error"]["Message"])
                self.assertClientError(self.iot.get_policy, "ResourceNotFoundException", 404, policyName=name)

    def test_document_over_2048_significant_characters_is_rejected(self):
        # Model: policyDocument "maximum length of 2048, excluding whitespace". Which of the two
        # declared 400 errors AWS uses for an over-long document is not published.
        statements = [{"Effect": "Allow", "Action": "iot:Publish", "Resource": f"arn:aws:iot:eu-west-1:000000000000:topic/t{i:04d}"}
                      for i in range(40)]
        doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
        self.assertGreater(len("".join(doc.split())), 2048)
        self.assertClientErrorIn(self.iot.create_policy, {"MalformedPolicyException": 400, "InvalidRequestException": 400},
                                 policyName=self.name("long"), policyDocument=doc)

    def test_whitespace_does_not_count_toward_the_limit(self):
        statements = [{"Effect": "Allow", "Action": "iot:Publish", "Resource": f"arn:aws:iot:eu-west-1:000000000000:topic/t{i:04d}"}
                      for i in range(16)]
        doc = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=12)
        self.assertLess(len("".join(doc.split())), 2048)
        self.assertGreater(len(doc), 2048)
        self.iot.create_policy(policyName=self.name("ws"), policyDocument=doc)

    def test_invalid_name_is_invalid_request(self):
        # PolicyName pattern [\w+=,.@-]+ (model).
        raw = fk.client(validate=False)
        self.assertClientError(raw.create_policy, "InvalidRequestException", 400,
                               policyName="bad name!", policyDocument=document())

    def test_get_missing_is_resource_not_found(self):
        self.assertClientError(self.iot.get_policy, "ResourceNotFoundException", 404, policyName=self.name("none"))

    def test_delete_then_get_is_not_found(self):
        name = self.policy()
        self.iot.delete_policy(policyName=name)
        self.assertClientError(self.iot.get_policy, "ResourceNotFoundException", 404, policyName=name)
        # DeletePolicy declares ResourceNotFoundException (model).
        self.assertClientError(self.iot.delete_policy, "ResourceNotFoundException", 404, policyName=name)

    def test_delete_with_non_default_versions_is_delete_conflict(self):
        # Model doc: "A policy cannot be deleted if it has non-default versions"; AWS's message
        # (rebuy-de/aws-nuke#320): "The policy cannot be deleted as versions other than than default
        # version exist". DeleteConflictException is HTTP 409 (model).
        name = self.policy()
        self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Publish"))
        self.assertClientError(self.iot.delete_policy, "DeleteConflictException", 409, policyName=name)
        self.iot.delete_policy_version(policyName=name, policyVersionId="2")
        self.iot.delete_policy(policyName=name)

    def test_delete_while_attached_is_delete_conflict(self):
        # Model doc: a policy cannot be deleted if "it is attached to any certificate"; AWS's message
        # (rebuy-de/aws-nuke#374): "The policy cannot be deleted as the policy is attached to one or
        # more principals (name=<policy>)".
        name = self.policy()
        c = self.cert()
        self.iot.attach_policy(policyName=name, target=c["certificateArn"])
        self.assertClientError(self.iot.delete_policy, "DeleteConflictException", 409, policyName=name)
        self.iot.detach_policy(policyName=name, target=c["certificateArn"])
        self.iot.delete_policy(policyName=name)

    def test_delete_while_attached_to_a_group_is_delete_conflict(self):
        name = self.policy()
        group = self.create_group(self.name("g"))
        self.iot.attach_policy(policyName=name, target=group["thingGroupArn"])
        self.assertClientError(self.iot.delete_policy, "DeleteConflictException", 409, policyName=name)


class ListPoliciesTests(PolicyTestCase):

    def walk(self, **kwargs) -> list[dict]:
        out, marker = [], None
        while True:
            page = self.iot.list_policies(**kwargs, **({"marker": marker} if marker else {}))
            if "pageSize" in kwargs:
                self.assertLessEqual(len(page["policies"]), kwargs["pageSize"])
            out.extend(page["policies"])
            marker = page.get("nextMarker")
            if not marker:
                return out

    def test_page_size_and_marker(self):
        names = [self.policy(f"p{i}") for i in range(5)]
        listed = self.walk(pageSize=2)
        listed_names = [p["policyName"] for p in listed]
        self.assertEqual(len(listed_names), len(set(listed_names)))
        self.assertTrue(set(names) <= set(listed_names))
        item = next(p for p in listed if p["policyName"] == names[0])
        # Policy (list item) = policyName, policyArn (model).
        self.assertEqual(item, {"policyName": names[0], "policyArn": fk.arn("policy", names[0])})

    def test_first_page_has_next_marker(self):
        for i in range(3):
            self.policy(f"p{i}")
        page = self.iot.list_policies(pageSize=2)
        self.assertEqual(len(page["policies"]), 2)
        self.assertTrue(page.get("nextMarker"))

    def test_paginator(self):
        names = [self.policy(f"p{i}") for i in range(3)]
        listed = self.all_pages("list_policies", "policies", PaginationConfig={"PageSize": 1})
        self.assertTrue(set(names) <= {p["policyName"] for p in listed})

    def test_ascending_order(self):
        # ListPolicies ?isAscendingOrder: "Specifies the order for results. If true, the results are
        # returned in ascending creation order." (model)
        # Created in reverse alphabetical order, so creation order and name order differ.
        names = [self.policy(s) for s in ("zz", "mm", "aa")]
        asc = [p["policyName"] for p in self.walk(pageSize=50, ascendingOrder=True) if p["policyName"] in names]
        desc = [p["policyName"] for p in self.walk(pageSize=50, ascendingOrder=False) if p["policyName"] in names]
        self.assertEqual(asc, names)
        self.assertEqual(desc, list(reversed(names)))


class PolicyVersionTests(PolicyTestCase):

    def test_create_version_not_default(self):
        name = self.policy()
        v = self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Publish"))
        self.assertEqual(v["policyArn"], fk.arn("policy", name))
        self.assertEqual(v["policyVersionId"], "2")
        self.assertEqual(v["policyDocument"], document("iot:Publish"))
        self.assertFalse(v["isDefaultVersion"])
        g = self.iot.get_policy(policyName=name)
        self.assertEqual(g["defaultVersionId"], "1")
        self.assertEqual(g["policyDocument"], document())

    def test_create_version_as_default(self):
        # setAsDefault: "the new policy version becomes the operative version" (model).
        name = self.policy()
        v = self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Publish"), setAsDefault=True)
        self.assertTrue(v["isDefaultVersion"])
        g = self.iot.get_policy(policyName=name)
        self.assertEqual(g["defaultVersionId"], "2")
        self.assertEqual(g["policyDocument"], document("iot:Publish"))

    def test_sixth_version_is_versions_limit_exceeded(self):
        # Model doc: "A managed policy can have up to five versions"; VersionsLimitExceededException
        # is HTTP 409 (model); AWS's message (hashicorp/terraform-provider-aws#30314): "The policy
        # <name> already has the maximum number of versions (5)".
        name = self.policy()
        for i in range(2, 6):
            self.assertEqual(self.iot.create_policy_version(policyName=name, policyDocument=document(f"iot:Publish{i}"))["policyVersionId"], str(i))
        self.assertClientError(self.iot.create_policy_version, "VersionsLimitExceededException", 409,
                               policyName=name, policyDocument=document("iot:Receive"))
        self.assertEqual(len(self.iot.list_policy_versions(policyName=name)["policyVersions"]), 5)
        # Deleting a version makes room; ids are not reused.
        self.iot.delete_policy_version(policyName=name, policyVersionId="3")
        v = self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Receive"))
        self.assertGreater(int(v["policyVersionId"]), 5)

    def test_get_policy_version(self):
        name = self.policy()
        self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Publish"))
        g = self.iot.get_policy_version(policyName=name, policyVersionId="2")
        self.assertEqual(g["policyName"], name)
        self.assertEqual(g["policyArn"], fk.arn("policy", name))
        self.assertEqual(g["policyDocument"], document("iot:Publish"))
        self.assertEqual(g["policyVersionId"], "2")
        self.assertFalse(g["isDefaultVersion"])
        self.assertRecentDatetime(g["creationDate"], "creationDate")
        self.assertRecentDatetime(g["lastModifiedDate"], "lastModifiedDate")
        self.assertTrue(g["generationId"])
        self.assertTrue(self.iot.get_policy_version(policyName=name, policyVersionId="1")["isDefaultVersion"])

    def test_get_missing_version_is_resource_not_found(self):
        name = self.policy()
        self.assertClientError(self.iot.get_policy_version, "ResourceNotFoundException", 404,
                               policyName=name, policyVersionId="7")
        self.assertClientError(self.iot.get_policy_version, "ResourceNotFoundException", 404,
                               policyName=self.name("none"), policyVersionId="1")

    def test_list_versions_marks_the_default(self):
        name = self.policy()
        self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Publish"))
        self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Receive"), setAsDefault=True)
        versions = self.iot.list_policy_versions(policyName=name)["policyVersions"]
        self.assertEqual(sorted(v["versionId"] for v in versions), ["1", "2", "3"])
        self.assertEqual([v["versionId"] for v in versions if v["isDefaultVersion"]], ["3"])
        for v in versions:
            self.assertRecentDatetime(v["createDate"], "createDate")

    def test_list_versions_of_missing_policy_is_not_found(self):
        self.assertClientError(self.iot.list_policy_versions, "ResourceNotFoundException", 404, policyName=self.name("none"))

    def test_set_default_version(self):
        name = self.policy()
        self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Publish"))
        self.iot.set_default_policy_version(policyName=name, policyVersionId="2")
        g = self.iot.get_policy(policyName=name)
        self.assertEqual((g["defaultVersionId"], g["policyDocument"]), ("2", document("iot:Publish")))
        self.assertFalse(self.iot.get_policy_version(policyName=name, policyVersionId="1")["isDefaultVersion"])
        self.iot.set_default_policy_version(policyName=name, policyVersionId="1")
        self.assertEqual(self.iot.get_policy(policyName=name)["defaultVersionId"], "1")
        self.assertClientError(self.iot.set_default_policy_version, "ResourceNotFoundException", 404,
                               policyName=name, policyVersionId="9")

    def test_delete_default_version_is_delete_conflict(self):
        # Model doc: "You cannot delete the default version of a policy using this action."
        # DeletePolicyVersion declares DeleteConflictException (409).
        name = self.policy()
        self.iot.create_policy_version(policyName=name, policyDocument=document("iot:Publish"))
        self.assertClientError(self.iot.delete_policy_version, "DeleteConflictException", 409,
                               policyName=name, policyVersionId="1")
        self.iot.delete_policy_version(policyName=name, policyVersionId="2")
        self.assertClientError(self.iot.get_policy_version, "ResourceNotFoundException", 404,
                               policyName=name, policyVersionId="2")
        self.assertClientError(self.iot.delete_policy_version, "ResourceNotFoundException", 404,
                               policyName=name, policyVersionId="2")

    def test_malformed_version_is_malformed_policy_exception(self):
        name = self.policy()
        self.assertClientError(self.iot.create_policy_version, "MalformedPolicyException", 400,
                               policyName=name, policyDocument='{"Version":"2012-10-17"}')
        self.assertEqual(len(self.iot.list_policy_versions(policyName=name)["policyVersions"]), 1)

    def test_version_of_missing_policy_is_not_found(self):
        self.assertClientError(self.iot.create_policy_version, "ResourceNotFoundException", 404,
                               policyName=self.name("none"), policyDocument=document())


class PrincipalPolicyTests(PolicyTestCase):
    """The deprecated principal forms (x-amzn-iot-principal header), which the AWS CLI still offers."""

    def principal_policies(self, principal: str, **kwargs) -> list[str]:
        out, marker = [], None
        while True:
            page = self.iot.list_principal_policies(principal=principal, **kwargs, **({"marker": marker} if marker else {}))
            out.extend(p["policyName"] for p in page["policies"])
            marker = page.get("nextMarker")
            if not marker:
                return out

    def test_attach_list_in_creation_order_both_ways_and_detach(self):
        c = self.cert()
        names = [self.policy(f"pp{i}") for i in range(3)]
        for n in reversed(names):
            self.iot.attach_principal_policy(policyName=n, principal=c["certificateArn"])
        self.assertEqual(self.attached(c["certificateArn"]), sorted(names))
        page = self.iot.list_principal_policies(principal=c["certificateArn"], pageSize=2)
        self.assertEqual(page["policies"][0], {"policyName": names[0], "policyArn": fk.arn("policy", names[0])})
        self.assertTrue(page.get("nextMarker"))
        self.assertEqual(self.principal_policies(c["certificateArn"], pageSize=1), names)
        self.assertEqual(self.principal_policies(c["certificateArn"], pageSize=2, ascendingOrder=False), names[::-1])
        self.iot.detach_principal_policy(policyName=names[1], principal=c["certificateArn"])
        self.assertEqual(self.principal_policies(c["certificateArn"]), [names[0], names[2]])

    def test_unknown_principal_and_missing_header_are_refused(self):
        self.assertClientError(self.iot.list_principal_policies, "ResourceNotFoundException", 404,
                               principal=fk.arn("cert", "0" * 64))
        status, headers, _ = fk.signed_request("GET", "/principal-policies")
        self.assertEqual((status, headers.get("x-amzn-errortype", "").split(":")[0]), (400, "InvalidRequestException"))


class AttachPolicyTests(PolicyTestCase):

    def test_attach_to_certificate_list_and_detach(self):
        name, c = self.policy(), self.cert()
        self.iot.attach_policy(policyName=name, target=c["certificateArn"])
        # ListAttachedPolicies takes the target ARN as a URI label (model: POST /attached-policies/{target}).
        page = self.iot.list_attached_policies(target=c["certificateArn"])
        self.assertEqual(page["policies"], [{"policyName": name, "policyArn": fk.arn("policy", name)}])
        self.assertEqual(self.targets(name), [c["certificateArn"]])
        self.iot.detach_policy(policyName=name, target=c["certificateArn"])
        self.assertEqual(self.attached(c["certificateArn"]), [])
        self.assertEqual(self.targets(name), [])

    def test_attach_twice_is_one_attachment(self):
        name, c = self.policy(), self.cert()
        self.iot.attach_policy(policyName=name, target=c["certificateArn"])
        self.iot.attach_policy(policyName=name, target=c["certificateArn"])
        self.assertEqual(self.attached(c["certificateArn"]), [name])

    def test_several_policies_on_a_certificate_paginate(self):
        c = self.cert()
        names = [self.policy(f"p{i}") for i in range(3)]
        for n in names:
            self.iot.attach_policy(policyName=n, target=c["certificateArn"])
        first = self.iot.list_attached_policies(target=c["certificateArn"], pageSize=2)
        self.assertEqual(len(first["policies"]), 2)
        self.assertTrue(first.get("nextMarker"))
        self.assertEqual(sorted(self.attached(c["certificateArn"], pageSize=1)), sorted(names))

    def test_attach_to_thing_group(self):
        # AttachPolicy target: "For example, a thing group or a certificate" (model).
        name = self.policy()
        group = self.create_group(self.name("g"))
        self.iot.attach_policy(policyName=name, target=group["thingGroupArn"])
        self.assertEqual(self.attached(group["thingGroupArn"]), [name])
        self.assertEqual(self.targets(name), [group["thingGroupArn"]])
        self.iot.detach_policy(policyName=name, target=group["thingGroupArn"])
        self.assertEqual(self.attached(group["thingGroupArn"]), [])

    def test_recursive_lists_policies_of_parent_groups(self):
        # ListAttachedPolicies ?recursive: "When true, recursively list attached policies" (model):
        # for a thing group, the policies its ancestors carry too.
        root, mid = self.create_group(self.name("root")), None
        mid = self.create_group(self.name("mid"), parent=root["thingGroupName"])
        leaf = self.create_group(self.name("leaf"), parent=mid["thingGroupName"])
        p_root, p_mid, p_leaf = self.policy("proot"), self.policy("pmid"), self.policy("pleaf")
        self.iot.attach_policy(policyName=p_root, target=root["thingGroupArn"])
        self.iot.attach_policy(policyName=p_mid, target=mid["thingGroupArn"])
        self.iot.attach_policy(policyName=p_leaf, target=leaf["thingGroupArn"])
        self.assertEqual(self.attached(leaf["thingGroupArn"]), [p_leaf])
        self.assertEqual(self.attached(leaf["thingGroupArn"], recursive=False), [p_leaf])
        self.assertEqual(sorted(self.attached(leaf["thingGroupArn"], recursive=True)), sorted([p_root, p_mid, p_leaf]))
        self.assertEqual(sorted(self.attached(mid["thingGroupArn"], recursive=True)), sorted([p_root, p_mid]))

    def test_targets_for_policy_lists_certificates_and_groups(self):
        name = self.policy()
        c1, c2 = self.cert(), self.cert()
        group = self.create_group(self.name("g"))
        for target in (c1["certificateArn"], c2["certificateArn"], group["thingGroupArn"]):
            self.iot.attach_policy(policyName=name, target=target)
        self.assertEqual(sorted(self.targets(name)),
                         sorted([c1["certificateArn"], c2["certificateArn"], group["thingGroupArn"]]))
        first = self.iot.list_targets_for_policy(policyName=name, pageSize=2)
        self.assertEqual(len(first["targets"]), 2)
        self.assertTrue(first.get("nextMarker"))

    def test_unknown_policy_is_resource_not_found(self):
        # AttachPolicy, ListTargetsForPolicy declare ResourceNotFoundException (model).
        c = self.cert()
        self.assertClientError(self.iot.attach_policy, "ResourceNotFoundException", 404,
                               policyName=self.name("none"), target=c["certificateArn"])
        self.assertClientError(self.iot.list_targets_for_policy, "ResourceNotFoundException", 404,
                               policyName=self.name("none"))

    def test_unknown_target_is_resource_not_found(self):
        name = self.policy()
        for target in (fk.arn("cert", "c" * 64), fk.arn("thinggroup", self.name("nogroup"))):
            with self.subTest(target=target):
                self.assertClientError(self.iot.attach_policy, "ResourceNotFoundException", 404,
                                       policyName=name, target=target)
                # ListAttachedPolicies declares ResourceNotFoundException (model).
                self.assertClientError(self.iot.list_attached_policies, "ResourceNotFoundException", 404, target=target)
        self.assertEqual(self.targets(name), [])

    def test_target_that_is_not_a_certificate_or_group_is_invalid_request(self):
        # Valid targets: certificate ARN, thing group ARN, Cognito id (model doc of ListAttachedPolicies);
        # a thing ARN is none of them (aws/aws-cdk#26166 shows AWS answering InvalidRequestException
        # "The given ARN does not represent a cert" for a wrong ARN kind).
        name = self.policy()
        thing = self.name("t")
        self.iot.create_thing(thingName=thing)
        self.assertClientError(self.iot.attach_policy, "InvalidRequestException", 400,
                               policyName=name, target=fk.arn("thing", thing))

    def test_deleted_certificate_is_no_longer_a_target(self):
        name = self.policy()
        c = self.cert(active=False)
        self.iot.attach_policy(policyName=name, target=c["certificateArn"])
        self.iot.delete_certificate(certificateId=c["certificateId"], forceDelete=True)
        self.assertEqual(self.targets(name), [])


class EffectivePoliciesTests(PolicyTestCase):

    def effective(self, **kwargs) -> dict:
        r = self.iot.get_effective_policies(**kwargs)
        return {p["policyName"]: p for p in r["effectivePolicies"]}

    def test_certificate_policies(self):
        c = self.cert()
        a, b = self.policy("a", DEVICE_POLICY), self.policy("b")
        self.iot.attach_policy(policyName=a, target=c["certificateArn"])
        self.iot.attach_policy(policyName=b, target=c["certificateArn"])
        eff = self.effective(principal=c["certificateArn"])
        self.assertEqual(set(eff), {a, b})
        # EffectivePolicy = policyName, policyArn, policyDocument (model); the default version's document.
        self.assertEqual(eff[a]["policyArn"], fk.arn("policy", a))
        self.assertEqual(eff[a]["policyDocument"], DEVICE_POLICY)

    def test_default_version_document_is_the_effective_one(self):
        c = self.cert()
        a = self.policy("a")
        self.iot.attach_policy(policyName=a, target=c["certificateArn"])
        self.iot.create_policy_version(policyName=a, policyDocument=document("iot:Publish"), setAsDefault=True)
        self.assertEqual(self.effective(principal=c["certificateArn"])[a]["policyDocument"], document("iot:Publish"))

    def test_thing_name_adds_the_policies_of_its_groups(self):
        # GetEffectivePolicies: "the policies that have an effect on the authorization behavior of
        # the specified device" (model); policies attached to a thing group apply to its things and to
        # the things of its child groups (developerguide thing-groups: "policies ... inherited").
        c = self.cert()
        thing = self.name("t")
        self.iot.create_thing(thingName=thing)
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        parent = self.create_group(self.name("parent"))
        child = self.create_group(self.name("child"), parent=parent["thingGroupName"])
        other = self.create_group(self.name("other"))
        self.iot.add_thing_to_thing_group(thingGroupName=child["thingGroupName"], thingName=thing)
        p_cert, p_parent, p_child, p_other = (self.policy("pc"), self.policy("pp"), self.policy("pch"), self.policy("po"))
        self.iot.attach_policy(policyName=p_cert, target=c["certificateArn"])
        self.iot.attach_policy(policyName=p_parent, target=parent["thingGroupArn"])
        self.iot.attach_policy(policyName=p_child, target=child["thingGroupArn"])
        self.iot.attach_policy(policyName=p_other, target=other["thingGroupArn"])
        self.assertEqual(set(self.effective(principal=c["certificateArn"])), {p_cert})
        self.assertEqual(set(self.effective(principal=c["certificateArn"], thingName=thing)), {p_cert, p_parent, p_child})

    def test_unknown_principal_or_thing_is_resource_not_found(self):
        # GetEffectivePolicies declares ResourceNotFoundException (model).
        self.assertClientError(self.iot.get_effective_policies, "ResourceNotFoundException", 404,
                               principal=fk.arn("cert", "b" * 64))
        c = self.cert()
        self.assertClientError(self.iot.get_effective_policies, "ResourceNotFoundException", 404,
                               principal=c["certificateArn"], thingName=self.name("nothing"))


if __name__ == "__main__":
    unittest.main()
