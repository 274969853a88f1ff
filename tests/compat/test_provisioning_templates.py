"""Provisioning templates: CreateProvisioningTemplate, Describe, Update, Delete, List, and their versions
(Create/Describe/List/DeleteProvisioningTemplateVersion), with tags (boto3)."""

import json
import unittest
import uuid

from compat_base import CompatTestCase, tags_dict
import fleetkey_server as fk

SEED_TEMPLATE = fk.seed_template()

ROLE_ARN = "arn:aws:iam::000000000000:role/FleetkeyProvisioning"
HOOK_ARN = "arn:aws:lambda:eu-west-1:000000000000:function:pre-provisioning-hook"
OTHER_BODY = json.dumps({
    "Parameters": {"SerialNumber": {"Type": "String"}},
    "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "SerialNumber"}}}},
})


class TemplateTestCase(CompatTestCase):

    def setUp(self):
        # Template names are at most 36 characters (model: TemplateName 1-36, ^[0-9A-Za-z_-]+$).
        self.prefix = f"c{fk.RUN_ID}-{uuid.uuid4().hex[:10]}"

    def create(self, suffix: str = "t", body: str = SEED_TEMPLATE, **kwargs) -> dict:
        kwargs.setdefault("provisioningRoleArn", ROLE_ARN)
        return self.iot.create_provisioning_template(templateName=self.name(suffix), templateBody=body, **kwargs)

    def version_ids(self, name: str) -> list:
        return [(v["versionId"], v["isDefaultVersion"])
                for v in self.all_pages("list_provisioning_template_versions", "versions", templateName=name)]


class CreateDescribeTests(TemplateTestCase):

    def test_create_with_seed_template_then_describe(self):
        name = self.name("seed")
        r = self.iot.create_provisioning_template(templateName=name, templateBody=SEED_TEMPLATE,
                                                  provisioningRoleArn=ROLE_ARN, description="the seed's template")
        # Model: CreateProvisioningTemplateResponse = templateArn, templateName, defaultVersionId (integer).
        self.assertEqual(r["templateArn"], fk.arn("provisioningtemplate", name))
        self.assertEqual(r["templateName"], name)
        self.assertEqual(r["defaultVersionId"], 1)

        d = self.iot.describe_provisioning_template(templateName=name)
        self.assertEqual(d["templateArn"], fk.arn("provisioningtemplate", name))
        self.assertEqual(d["templateName"], name)
        self.assertEqual(d["templateBody"], SEED_TEMPLATE)
        self.assertEqual(d["description"], "the seed's template")
        self.assertEqual(d["defaultVersionId"], 1)
        self.assertEqual(d["provisioningRoleArn"], ROLE_ARN)
        # Model: type is FLEET_PROVISIONING (the default) or JITP; enabled is false unless asked for.
        self.assertEqual(d["type"], "FLEET_PROVISIONING")
        self.assertIs(d["enabled"], False)
        self.assertNotIn("preProvisioningHook", d)
        self.assertRecentDatetime(d["creationDate"], "creationDate")
        self.assertRecentDatetime(d["lastModifiedDate"], "lastModifiedDate")

    def test_create_jitp_enabled_with_tags(self):
        name = self.create("j", body=OTHER_BODY, type="JITP", enabled=True,
                           tags=[{"Key": "owner", "Value": "factory"}])["templateName"]
        d = self.iot.describe_provisioning_template(templateName=name)
        self.assertEqual((d["type"], d["enabled"]), ("JITP", True))
        arn = fk.arn("provisioningtemplate", name)
        # TagResource works on provisioningtemplate ARNs (AWS IoT: provisioning templates are taggable).
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn)["tags"]), {"owner": "factory"})
        self.iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}])
        self.iot.untag_resource(resourceArn=arn, tagKeys=["owner"])
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn)["tags"]), {"env": "prod"})

    def test_pre_provisioning_hook_round_trips_with_default_payload_version(self):
        name = self.create("h", preProvisioningHook={"targetArn": HOOK_ARN})["templateName"]
        hook = self.iot.describe_provisioning_template(templateName=name)["preProvisioningHook"]
        # AWS docs (ProvisioningHook): payloadVersion defaults to 2020-04-01.
        self.assertEqual(hook, {"targetArn": HOOK_ARN, "payloadVersion": "2020-04-01"})

    def test_duplicate_name_is_resource_already_exists(self):
        self.create("d")
        # CreateProvisioningTemplate declares ResourceAlreadyExistsException, HTTP 409 (model).
        self.assertClientError(self.create, "ResourceAlreadyExistsException", 409, "d", body=OTHER_BODY)
        self.assertEqual(self.iot.describe_provisioning_template(templateName=self.name("d"))["templateBody"], SEED_TEMPLATE)

    def test_missing_template_is_resource_not_found(self):
        missing = self.name("missing")
        for call, kwargs in [
            (self.iot.describe_provisioning_template, {}),
            (self.iot.delete_provisioning_template, {}),
            (self.iot.update_provisioning_template, {"enabled": True}),
            (self.iot.list_provisioning_template_versions, {}),
            (self.iot.create_provisioning_template_version, {"templateBody": OTHER_BODY}),
            (self.iot.describe_provisioning_template_version, {"versionId": 1}),
            (self.iot.delete_provisioning_template_version, {"versionId": 1}),
        ]:
            with self.subTest(call.__name__):
                self.assertClientError(call, "ResourceNotFoundException", 404, templateName=missing, **kwargs)

    def test_invalid_body_is_invalid_request_naming_each_problem(self):
        body = json.dumps({"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"Colour": "red"}},
                                         "bucket": {"Type": "AWS::S3::Bucket"}}})
        e = self.assertClientError(self.create, "InvalidRequestException", 400, "bad", body=body)
        message = e.response["Error"]["Message"]
        for path in ("Resources.thing.Properties.Colour", "Resources.thing.Properties.ThingName", "Resources.bucket.Type"):
            self.assertIn(path, message)
        self.assertClientError(self.create, "InvalidRequestException", 400, "nojson", body="{ not json")
        self.assertClientError(self.iot.describe_provisioning_template, "ResourceNotFoundException", 404, templateName=self.name("bad"))

    def test_model_constraints_are_invalid_request(self):
        cases = {
            "name too long": dict(templateName="x" * 37),
            "name pattern": dict(templateName="has.dot"),
            "type not in enum": dict(type="CLAIM"),
            "role too short": dict(provisioningRoleArn="arn:role"),
            "role not an IAM role": dict(provisioningRoleArn="arn:aws:iam::000000000000:user/someone"),
            "hook not a Lambda": dict(preProvisioningHook={"targetArn": "arn:aws:sns:eu-west-1:000000000000:topic"}),
            "hook on JITP": dict(type="JITP", preProvisioningHook={"targetArn": HOOK_ARN}),
        }
        for label, overrides in cases.items():
            with self.subTest(label):
                kwargs = dict(templateName=self.name("c"), templateBody=SEED_TEMPLATE, provisioningRoleArn=ROLE_ARN)
                kwargs.update(overrides)
                self.assertClientError(fk.client(validate=False).create_provisioning_template, "InvalidRequestException", 400, **kwargs)


class UpdateTests(TemplateTestCase):

    def test_update_enabled_description_default_version(self):
        name = self.create("u")["templateName"]
        v2 = self.iot.create_provisioning_template_version(templateName=name, templateBody=OTHER_BODY)
        self.assertEqual((v2["versionId"], v2["isDefaultVersion"]), (2, False))
        before = self.iot.describe_provisioning_template(templateName=name)

        self.iot.update_provisioning_template(templateName=name, enabled=True, description="in production", defaultVersionId=2)

        d = self.iot.describe_provisioning_template(templateName=name)
        self.assertEqual((d["enabled"], d["description"], d["defaultVersionId"], d["templateBody"]),
                         (True, "in production", 2, OTHER_BODY))
        self.assertGreaterEqual(d["lastModifiedDate"], before["lastModifiedDate"])
        self.assertEqual(d["creationDate"], before["creationDate"])
        self.assertEqual(self.version_ids(name), [(1, False), (2, True)])

        self.iot.update_provisioning_template(templateName=name, enabled=False)
        d = self.iot.describe_provisioning_template(templateName=name)
        self.assertEqual((d["enabled"], d["description"], d["defaultVersionId"]), (False, "in production", 2))

    def test_update_to_missing_version_is_resource_not_found(self):
        name = self.create("u")["templateName"]
        self.assertClientError(self.iot.update_provisioning_template, "ResourceNotFoundException", 404,
                               templateName=name, defaultVersionId=9)

    def test_hook_set_and_removed(self):
        name = self.create("u")["templateName"]
        self.iot.update_provisioning_template(templateName=name, preProvisioningHook={"targetArn": HOOK_ARN, "payloadVersion": "2020-04-01"})
        self.assertEqual(self.iot.describe_provisioning_template(templateName=name)["preProvisioningHook"]["targetArn"], HOOK_ARN)
        self.assertClientError(self.iot.update_provisioning_template, "InvalidRequestException", 400, templateName=name,
                               preProvisioningHook={"targetArn": HOOK_ARN}, removePreProvisioningHook=True)
        self.iot.update_provisioning_template(templateName=name, removePreProvisioningHook=True)
        self.assertNotIn("preProvisioningHook", self.iot.describe_provisioning_template(templateName=name))


class VersionTests(TemplateTestCase):

    def test_versions_up_to_five_then_versions_limit_exceeded(self):
        name = self.create("v")["templateName"]
        for expected in range(2, 6):
            r = self.iot.create_provisioning_template_version(templateName=name, templateBody=OTHER_BODY, setAsDefault=(expected == 5))
            self.assertEqual(r["templateArn"], fk.arn("provisioningtemplate", name))
            self.assertEqual(r["templateName"], name)
            self.assertEqual((r["versionId"], r["isDefaultVersion"]), (expected, expected == 5))
        # A template has at most 5 versions; CreateProvisioningTemplateVersion declares
        # VersionsLimitExceededException, HTTP 409 (model).
        self.assertClientError(self.iot.create_provisioning_template_version, "VersionsLimitExceededException", 409,
                               templateName=name, templateBody=OTHER_BODY)
        self.assertEqual(self.version_ids(name), [(1, False), (2, False), (3, False), (4, False), (5, True)])

        # Deleting a version frees a place; version ids are not reused.
        self.iot.delete_provisioning_template_version(templateName=name, versionId=2)
        r = self.iot.create_provisioning_template_version(templateName=name, templateBody=SEED_TEMPLATE)
        self.assertEqual(r["versionId"], 6)

    def test_describe_version(self):
        name = self.create("v")["templateName"]
        self.iot.create_provisioning_template_version(templateName=name, templateBody=OTHER_BODY, setAsDefault=True)
        v1 = self.iot.describe_provisioning_template_version(templateName=name, versionId=1)
        self.assertEqual((v1["versionId"], v1["templateBody"], v1["isDefaultVersion"]), (1, SEED_TEMPLATE, False))
        self.assertRecentDatetime(v1["creationDate"], "creationDate")
        v2 = self.iot.describe_provisioning_template_version(templateName=name, versionId=2)
        self.assertEqual((v2["templateBody"], v2["isDefaultVersion"]), (OTHER_BODY, True))
        self.assertEqual(self.iot.describe_provisioning_template(templateName=name)["templateBody"], OTHER_BODY)
        self.assertClientError(self.iot.describe_provisioning_template_version, "ResourceNotFoundException", 404,
                               templateName=name, versionId=3)

    def test_delete_version_rules(self):
        name = self.create("v")["templateName"]
        self.iot.create_provisioning_template_version(templateName=name, templateBody=OTHER_BODY)
        # The default version cannot be deleted: DeleteConflictException, HTTP 409 (model).
        self.assertClientError(self.iot.delete_provisioning_template_version, "DeleteConflictException", 409,
                               templateName=name, versionId=1)
        self.assertClientError(self.iot.delete_provisioning_template_version, "ResourceNotFoundException", 404,
                               templateName=name, versionId=7)
        self.iot.delete_provisioning_template_version(templateName=name, versionId=2)
        self.assertEqual(self.version_ids(name), [(1, True)])

    def test_invalid_version_body_is_invalid_request(self):
        name = self.create("v")["templateName"]
        e = self.assertClientError(self.iot.create_provisioning_template_version, "InvalidRequestException", 400,
                                   templateName=name, templateBody=json.dumps({"Resources": {"x": {"Type": "AWS::IoT::Thing"}}}))
        self.assertIn("Resources.x.Properties.ThingName", e.response["Error"]["Message"])
        self.assertEqual(self.version_ids(name), [(1, True)])

    def test_list_versions_pages_with_paginator(self):
        name = self.create("v")["templateName"]
        for _ in range(3):
            self.iot.create_provisioning_template_version(templateName=name, templateBody=OTHER_BODY)
        pages = list(self.iot.get_paginator("list_provisioning_template_versions").paginate(
            templateName=name, PaginationConfig={"PageSize": 1}))
        self.assertEqual(len(pages), 4)
        self.assertEqual([v["versionId"] for p in pages for v in p["versions"]], [1, 2, 3, 4])


class ListDeleteTests(TemplateTestCase):

    def test_list_pages_with_paginator(self):
        names = sorted(self.create(s, enabled=(s == "b"))["templateName"] for s in ("c", "a", "b"))
        pages = list(self.iot.get_paginator("list_provisioning_templates").paginate(PaginationConfig={"PageSize": 1}))
        self.assertGreaterEqual(len(pages), 3)
        mine = [t for p in pages for t in p["templates"] if t["templateName"].startswith(self.prefix)]
        self.assertEqual([t["templateName"] for t in mine], names)
        for t in mine:
            # Model: ProvisioningTemplateSummary = templateArn, templateName, description, creationDate,
            # lastModifiedDate, enabled, type.
            self.assertEqual(t["templateArn"], fk.arn("provisioningtemplate", t["templateName"]))
            self.assertEqual(t["type"], "FLEET_PROVISIONING")
            self.assertEqual(t["enabled"], t["templateName"].endswith("-b"))
            self.assertRecentDatetime(t["creationDate"], "creationDate")
            self.assertNotIn("templateBody", t)

    def test_list_max_results_out_of_range_is_invalid_request(self):
        self.assertClientError(fk.client(validate=False).list_provisioning_templates, "InvalidRequestException", 400, maxResults=251)

    def test_delete_removes_template_versions_and_tags(self):
        name = self.create("del", tags=[{"Key": "k", "Value": "v"}])["templateName"]
        self.iot.create_provisioning_template_version(templateName=name, templateBody=OTHER_BODY)
        self.iot.delete_provisioning_template(templateName=name)
        self.assertClientError(self.iot.describe_provisioning_template, "ResourceNotFoundException", 404, templateName=name)
        self.assertClientError(self.iot.list_tags_for_resource, "ResourceNotFoundException", 404,
                               resourceArn=fk.arn("provisioningtemplate", name))
        # The name is free again and starts over at version 1.
        self.assertEqual(self.create("del", body=OTHER_BODY)["defaultVersionId"], 1)
        self.assertEqual(self.version_ids(name), [(1, True)])


if __name__ == "__main__":
    unittest.main()
