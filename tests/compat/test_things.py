"""Things: CreateThing, DescribeThing, UpdateThing, DeleteThing with AWS semantics (boto3)."""

import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk


class CreateThingTests(CompatTestCase):

    def test_create_returns_name_arn_and_id(self):
        name = self.name("t")
        resp = self.iot.create_thing(thingName=name)
        self.assertEqual(resp["thingName"], name)
        # ARN uses the signing region and the default account id (design §2).
        self.assertEqual(resp["thingArn"], f"arn:aws:iot:eu-west-1:000000000000:thing/{name}")
        self.assertIsInstance(resp["thingId"], str)
        self.assertTrue(resp["thingId"])

    def test_identical_repeat_is_idempotent_and_keeps_thing_id(self):
        # Model doc of CreateThing: "If this call is made multiple times using the same thing name
        # and configuration, the call will succeed."
        tt = self.name("type")
        self.create_type(tt)
        name = self.name("t")
        first = self.create_thing(name, {"a": "1", "b": "2"}, tt)
        second = self.create_thing(name, {"a": "1", "b": "2"}, tt)
        self.assertEqual(second["thingId"], first["thingId"])
        self.assertEqual(second["thingArn"], first["thingArn"])
        self.assertEqual(self.iot.describe_thing(thingName=name)["version"], 1)

    def test_identical_repeat_without_attributes(self):
        name = self.name("t")
        first = self.iot.create_thing(thingName=name)
        second = self.iot.create_thing(thingName=name)
        self.assertEqual(second["thingId"], first["thingId"])

    def test_repeat_with_different_attributes_is_resource_already_exists(self):
        # Model doc: "same thing name but different configuration a ResourceAlreadyExistsException
        # is thrown"; the model gives it HTTP 409.
        name = self.name("t")
        self.create_thing(name, {"a": "1"})
        self.assertClientError(self.create_thing, "ResourceAlreadyExistsException", 409, name, {"a": "2"})
        # The existing thing is untouched.
        self.assertEqual(self.iot.describe_thing(thingName=name)["attributes"], {"a": "1"})

    def test_repeat_with_different_type_is_resource_already_exists(self):
        tt = self.name("type")
        self.create_type(tt)
        name = self.name("t")
        self.create_thing(name)
        self.assertClientError(self.create_thing, "ResourceAlreadyExistsException", 409, name, None, tt)

    def test_name_with_colons_underscores_and_dashes(self):
        # ThingName pattern [a-zA-Z0-9:_-]+ allows ':'; botocore percent-encodes it in the path
        # (%3A) and SigV4 encodes the path again in the canonical request, so this checks the
        # server's URI decoding and canonical-URI handling.
        name = self.name("a:b_c-d:e")
        self.iot.create_thing(thingName=name)
        d = self.iot.describe_thing(thingName=name)
        self.assertEqual(d["thingName"], name)
        self.assertEqual(d["thingArn"], fk.arn("thing", name))

    def test_invalid_name_is_invalid_request_naming_the_field(self):
        # Design §4: validation follows the model's pattern and answers InvalidRequestException
        # with a message naming the field (AWS: "Value 'x' at 'thingName' failed to satisfy ...").
        e = self.assertClientError(self.iot.create_thing, "InvalidRequestException", 400, thingName="bad name!")
        self.assertIn("thingName", e.response["Error"]["Message"])

    def test_name_longer_than_128_is_invalid_request(self):
        # ThingName max length 128 (model).
        name = (self.name("x") + "x" * 200)[:129]
        self.assertClientError(self.iot.create_thing, "InvalidRequestException", 400, thingName=name)
        ok = (self.name("y") + "y" * 200)[:128]
        self.assertEqual(self.iot.create_thing(thingName=ok)["thingName"], ok)

    def test_attribute_value_outside_pattern_is_invalid_request(self):
        # AttributeValue pattern [a-zA-Z0-9_.,@/:#=\[\]-]* (model): a space is not allowed.
        self.assertClientError(self.create_thing, "InvalidRequestException", 400,
                               self.name("t"), {"k": "has space"})

    def test_attribute_value_with_every_allowed_punctuation(self):
        name = self.name("t")
        value = "a_b.c,d@e/f:g#h=i[j]k-l"
        self.create_thing(name, {"k": value})
        self.assertEqual(self.iot.describe_thing(thingName=name)["attributes"], {"k": value})

    def test_unknown_thing_type_is_resource_not_found(self):
        # CreateThing declares ResourceNotFoundException (model); moto raises it for a missing type.
        self.assertClientError(self.create_thing, "ResourceNotFoundException", 404,
                               self.name("t"), None, self.name("no-such-type"))

    def test_deprecated_type_cannot_be_given_to_a_new_thing(self):
        # DeprecateThingType doc: "You can not associate new things with deprecated thing type."
        # Code: moto raises InvalidRequestException ("Can not create new thing with depreated
        # thing type", typo copied from AWS per moto's comment).
        tt = self.name("type")
        self.create_type(tt)
        existing = self.name("old")
        self.create_thing(existing, None, tt)
        self.iot.deprecate_thing_type(thingTypeName=tt)
        self.assertClientError(self.create_thing, "InvalidRequestException", 400, self.name("new"), None, tt)
        # Existing things keep the type (thing-types.md: deprecation does not change them).
        self.assertEqual(self.iot.describe_thing(thingName=existing)["thingTypeName"], tt)
        # After undo the type is usable again.
        self.iot.deprecate_thing_type(thingTypeName=tt, undoDeprecate=True)
        self.create_thing(self.name("new2"), None, tt)


class AttributeLimitTests(CompatTestCase):
    # thing-types.md / quotas: "3 attributes without a thing type, 50 with one" ([D:thing-types], [L19]).

    def test_three_attributes_without_type_ok_four_rejected(self):
        self.create_thing(self.name("three"), {"a": "1", "b": "2", "c": "3"})
        self.assertClientError(self.create_thing, "InvalidRequestException", 400,
                               self.name("four"), {"a": "1", "b": "2", "c": "3", "d": "4"})
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404,
                               thingName=self.name("four"))

    def test_fifty_attributes_with_type_ok_fifty_one_rejected(self):
        tt = self.name("type")
        self.create_type(tt)
        fifty = {f"attr{i:02d}": str(i) for i in range(50)}
        self.create_thing(self.name("fifty"), fifty, tt)
        self.assertEqual(len(self.iot.describe_thing(thingName=self.name("fifty"))["attributes"]), 50)
        fifty_one = dict(fifty, attr50="50")
        self.assertClientError(self.create_thing, "InvalidRequestException", 400,
                               self.name("fiftyone"), fifty_one, tt)

    def test_merge_past_three_without_type_rejected(self):
        # The limit is on the thing's attributes, so a merge that would make a 4th fails too.
        name = self.name("t")
        self.create_thing(name, {"a": "1", "b": "2", "c": "3"})
        self.assertClientError(self.iot.update_thing, "InvalidRequestException", 400,
                               thingName=name, attributePayload={"attributes": {"d": "4"}, "merge": True})
        d = self.iot.describe_thing(thingName=name)
        self.assertEqual(d["attributes"], {"a": "1", "b": "2", "c": "3"})
        self.assertEqual(d["version"], 1)


class DescribeThingTests(CompatTestCase):

    def test_describe_returns_every_field(self):
        tt = self.name("type")
        self.create_type(tt)
        name = self.name("t")
        created = self.create_thing(name, {"color": "red", "size": "10"}, tt)
        d = self.iot.describe_thing(thingName=name)
        self.assertEqual(d["thingName"], name)
        self.assertEqual(d["thingId"], created["thingId"])
        self.assertEqual(d["thingArn"], created["thingArn"])
        self.assertEqual(d["thingArn"], fk.arn("thing", name))
        # defaultClientId is the thing name (awscli examples/iot/describe-thing.rst).
        self.assertEqual(d["defaultClientId"], name)
        self.assertEqual(d["version"], 1)
        self.assertEqual(d["attributes"], {"color": "red", "size": "10"})
        self.assertEqual(d["thingTypeName"], tt)

    def test_describe_untyped_thing_without_attributes(self):
        name = self.name("t")
        self.iot.create_thing(thingName=name)
        d = self.iot.describe_thing(thingName=name)
        self.assertNotIn("thingTypeName", d)
        # awscli examples/iot/list-things.rst shows "attributes": {} for a thing without attributes.
        self.assertEqual(d.get("attributes"), {})
        self.assertEqual(d["version"], 1)

    def test_describe_missing_is_resource_not_found(self):
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404,
                               thingName=self.name("missing"))


class UpdateThingTests(CompatTestCase):

    def test_merge_false_replaces_attributes(self):
        name = self.name("t")
        self.create_thing(name, {"a": "1", "b": "2"})
        self.iot.update_thing(thingName=name, attributePayload={"attributes": {"c": "3"}, "merge": False})
        d = self.iot.describe_thing(thingName=name)
        self.assertEqual(d["attributes"], {"c": "3"})
        self.assertEqual(d["version"], 2)

    def test_merge_omitted_replaces_attributes(self):
        # merge defaults to false (AttributePayload.merge doc: merged "instead of overwriting").
        name = self.name("t")
        self.create_thing(name, {"a": "1", "b": "2"})
        self.iot.update_thing(thingName=name, attributePayload={"attributes": {"b": "9"}})
        self.assertEqual(self.iot.describe_thing(thingName=name)["attributes"], {"b": "9"})

    def test_merge_true_merges_attributes(self):
        name = self.name("t")
        self.create_thing(name, {"a": "1", "b": "2"})
        self.iot.update_thing(thingName=name, attributePayload={"attributes": {"b": "20", "c": "3"}, "merge": True})
        self.assertEqual(self.iot.describe_thing(thingName=name)["attributes"], {"a": "1", "b": "20", "c": "3"})

    def test_empty_value_with_merge_removes_attribute(self):
        # AttributePayload.merge doc: "To remove an attribute, call UpdateThing with an empty
        # attribute value."
        name = self.name("t")
        self.create_thing(name, {"a": "1", "b": "2"})
        self.iot.update_thing(thingName=name, attributePayload={"attributes": {"a": ""}, "merge": True})
        self.assertEqual(self.iot.describe_thing(thingName=name)["attributes"], {"b": "2"})

    def test_version_increments_on_every_update(self):
        name = self.name("t")
        self.create_thing(name, {"a": "1"})
        for expected in (2, 3, 4):
            self.iot.update_thing(thingName=name, attributePayload={"attributes": {"a": str(expected)}, "merge": True})
            self.assertEqual(self.iot.describe_thing(thingName=name)["version"], expected)

    def test_expected_version_match_succeeds_mismatch_conflicts(self):
        # UpdateThing declares VersionConflictException, HTTP 409 (model).
        name = self.name("t")
        self.create_thing(name, {"a": "1"})
        self.iot.update_thing(thingName=name, expectedVersion=1,
                              attributePayload={"attributes": {"a": "2"}, "merge": True})
        self.assertClientError(self.iot.update_thing, "VersionConflictException", 409,
                               thingName=name, expectedVersion=1,
                               attributePayload={"attributes": {"a": "3"}, "merge": True})
        d = self.iot.describe_thing(thingName=name)
        self.assertEqual((d["version"], d["attributes"]), (2, {"a": "2"}))
        self.assertClientError(self.iot.update_thing, "VersionConflictException", 409,
                               thingName=name, expectedVersion=7,
                               attributePayload={"attributes": {"a": "3"}, "merge": True})

    def test_set_and_remove_thing_type(self):
        tt = self.name("type")
        self.create_type(tt)
        name = self.name("t")
        self.create_thing(name, {"a": "1"})
        self.iot.update_thing(thingName=name, thingTypeName=tt)
        d = self.iot.describe_thing(thingName=name)
        self.assertEqual(d["thingTypeName"], tt)
        self.assertEqual(d["attributes"], {"a": "1"}, "changing the type alone keeps the attributes")
        self.iot.update_thing(thingName=name, removeThingType=True)
        d = self.iot.describe_thing(thingName=name)
        self.assertNotIn("thingTypeName", d)
        self.assertEqual(d["version"], 3)

    def test_type_and_remove_type_together_is_invalid_request(self):
        # Contradictory request; moto raises InvalidRequestException (unconfirmed on AWS).
        tt = self.name("type")
        self.create_type(tt)
        name = self.name("t")
        self.create_thing(name)
        self.assertClientError(self.iot.update_thing, "InvalidRequestException", 400,
                               thingName=name, thingTypeName=tt, removeThingType=True)

    def test_update_to_deprecated_type_is_invalid_request(self):
        # Deprecated types cannot be associated with things; moto: "Can not update a thing to use
        # deprecated thing type" (InvalidRequestException). Unconfirmed on AWS.
        tt = self.name("type")
        self.create_type(tt)
        self.iot.deprecate_thing_type(thingTypeName=tt)
        name = self.name("t")
        self.create_thing(name)
        self.assertClientError(self.iot.update_thing, "InvalidRequestException", 400,
                               thingName=name, thingTypeName=tt)

    def test_update_to_unknown_type_is_resource_not_found(self):
        name = self.name("t")
        self.create_thing(name)
        self.assertClientError(self.iot.update_thing, "ResourceNotFoundException", 404,
                               thingName=name, thingTypeName=self.name("no-such-type"))

    def test_update_missing_thing_is_resource_not_found(self):
        self.assertClientError(self.iot.update_thing, "ResourceNotFoundException", 404,
                               thingName=self.name("missing"), attributePayload={"attributes": {"a": "1"}})


class DeleteThingTests(CompatTestCase):

    def test_delete_then_describe_is_not_found(self):
        name = self.name("t")
        self.iot.create_thing(thingName=name)
        self.iot.delete_thing(thingName=name)
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=name)

    def test_delete_missing_thing_succeeds(self):
        # DeleteThing doc: "Returns successfully with no error if ... you specify a thing that
        # doesn't exist."
        resp = self.iot.delete_thing(thingName=self.name("never-created"))
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_expected_version(self):
        name = self.name("t")
        self.create_thing(name, {"a": "1"})
        self.iot.update_thing(thingName=name, attributePayload={"attributes": {"a": "2"}, "merge": True})
        # DeleteThing declares VersionConflictException (model, HTTP 409).
        self.assertClientError(self.iot.delete_thing, "VersionConflictException", 409,
                               thingName=name, expectedVersion=1)
        self.assertEqual(self.iot.describe_thing(thingName=name)["version"], 2)
        self.iot.delete_thing(thingName=name, expectedVersion=2)
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=name)

    def test_name_can_be_reused_after_delete(self):
        name = self.name("t")
        first = self.create_thing(name, {"a": "1"})
        self.iot.delete_thing(thingName=name)
        second = self.create_thing(name, {"a": "2"})
        self.assertEqual(self.iot.describe_thing(thingName=name)["attributes"], {"a": "2"})
        self.assertEqual(self.iot.describe_thing(thingName=name)["version"], 1)
        self.assertEqual(second["thingArn"], first["thingArn"])


if __name__ == "__main__":
    unittest.main()
