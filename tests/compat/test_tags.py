"""TagResource / UntagResource / ListTagsForResource on thing types and thing groups (boto3)."""

import unittest

from compat_base import CompatTestCase, tags_dict
import fleetkey_server as fk


class TagTests(CompatTestCase):

    def roundtrip(self, arn: str, initial: dict):
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn).get("tags")), initial)
        # TagResource "Adds to or modifies the tags of the given resource" (model doc).
        self.iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}, {"Key": "cost", "Value": "42"}])
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn)["tags"]),
                         dict(initial, env="prod", cost="42"))
        self.iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "staging"}])
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn)["tags"]),
                         dict(initial, env="staging", cost="42"))
        self.iot.untag_resource(resourceArn=arn, tagKeys=["cost", "not-there"])
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn)["tags"]),
                         dict(initial, env="staging"))
        self.iot.untag_resource(resourceArn=arn, tagKeys=["env"] + list(initial))
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn).get("tags")), {})

    def test_thing_type_tags(self):
        tt = self.name("type")
        arn = self.create_type(tt, tags=[{"Key": "team", "Value": "fw"}])["thingTypeArn"]
        self.roundtrip(arn, {"team": "fw"})

    def test_thing_group_tags(self):
        g = self.name("g")
        arn = self.create_group(g, tags=[{"Key": "owner", "Value": "ops"}, {"Key": "tier", "Value": "1"}])["thingGroupArn"]
        self.roundtrip(arn, {"owner": "ops", "tier": "1"})

    def test_untagged_group_lists_no_tags(self):
        arn = self.create_group(self.name("g"))["thingGroupArn"]
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn).get("tags")), {})

    def test_tag_value_may_be_empty_and_use_unicode_and_spaces(self):
        # TagKey pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ allows letters of any script and spaces;
        # TagValue is 0..256 of anything (model).
        arn = self.create_group(self.name("g"))["thingGroupArn"]
        tags = [{"Key": "Straße Nr", "Value": ""}, {"Key": "a:b/c=d+e-f@g", "Value": "x y, z!"}]
        self.iot.tag_resource(resourceArn=arn, tags=tags)
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn)["tags"]), tags_dict(tags))

    def test_tags_follow_the_resource(self):
        # Tags of a deleted resource are gone: a new group with the same name starts untagged.
        g = self.name("g")
        arn = self.create_group(g, tags=[{"Key": "k", "Value": "v"}])["thingGroupArn"]
        self.iot.delete_thing_group(thingGroupName=g)
        self.assertEqual(self.create_group(g)["thingGroupArn"], arn)
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=arn).get("tags")), {})

    def test_unknown_arn_is_resource_not_found(self):
        # TagResource, UntagResource and ListTagsForResource declare ResourceNotFoundException.
        for arn in (fk.arn("thinggroup", self.name("missing")), fk.arn("thingtype", self.name("missing"))):
            with self.subTest(arn=arn):
                self.assertClientError(self.iot.list_tags_for_resource, "ResourceNotFoundException", 404,
                                       resourceArn=arn)
                self.assertClientError(self.iot.tag_resource, "ResourceNotFoundException", 404,
                                       resourceArn=arn, tags=[{"Key": "k", "Value": "v"}])
                self.assertClientError(self.iot.untag_resource, "ResourceNotFoundException", 404,
                                       resourceArn=arn, tagKeys=["k"])

    def test_things_are_not_taggable(self):
        # Things cannot be tagged on AWS: tagging-iot.md lists thing groups, thing types, topic
        # rules, jobs, scheduled audits and security profiles, and sends cost tagging of things to
        # billing groups; CreateThing has no tags member (model). The error code for a thing ARN is
        # not documented: both declared client errors of TagResource are accepted (unconfirmed).
        t = self.name("t")
        arn = self.iot.create_thing(thingName=t)["thingArn"]
        self.assertClientErrorIn(self.iot.tag_resource,
                                 {"InvalidRequestException": 400, "ResourceNotFoundException": 404},
                                 resourceArn=arn, tags=[{"Key": "k", "Value": "v"}])

    def test_malformed_arn_is_invalid_request(self):
        # Unconfirmed on AWS: a string that is not an ARN at all is a bad request.
        self.assertClientError(self.iot.list_tags_for_resource, "InvalidRequestException", 400,
                               resourceArn="not-an-arn")


if __name__ == "__main__":
    unittest.main()
