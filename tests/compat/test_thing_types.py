"""Thing types: Create, Describe, List, Update, Deprecate/undo, Delete (boto3)."""

import unittest

from compat_base import CompatTestCase, tags_dict
import fleetkey_server as fk


class ThingTypeTests(CompatTestCase):

    def test_create_and_describe(self):
        tt = self.name("type")
        created = self.create_type(tt, "Temperature sensor, rev B", ["model", "site"],
                                   tags=[{"Key": "team", "Value": "fw"}])
        self.assertEqual(created["thingTypeName"], tt)
        self.assertEqual(created["thingTypeArn"], f"arn:aws:iot:eu-west-1:000000000000:thingtype/{tt}")
        self.assertTrue(created["thingTypeId"])

        d = self.iot.describe_thing_type(thingTypeName=tt)
        self.assertEqual(d["thingTypeName"], tt)
        self.assertEqual(d["thingTypeId"], created["thingTypeId"])
        self.assertEqual(d["thingTypeArn"], created["thingTypeArn"])
        # Shape per awscli examples/iot/describe-thing-type.rst.
        self.assertEqual(d["thingTypeProperties"]["thingTypeDescription"], "Temperature sensor, rev B")
        self.assertEqual(d["thingTypeProperties"]["searchableAttributes"], ["model", "site"])
        meta = d["thingTypeMetadata"]
        self.assertIs(meta["deprecated"], False)
        self.assertRecentDatetime(meta["creationDate"], "thingTypeMetadata.creationDate")
        self.assertNotIn("deprecationDate", meta)
        # Tags given at creation are visible through ListTagsForResource.
        tags = self.iot.list_tags_for_resource(resourceArn=created["thingTypeArn"])["tags"]
        self.assertEqual(tags_dict(tags), {"team": "fw"})

    def test_create_without_properties(self):
        tt = self.name("type")
        self.iot.create_thing_type(thingTypeName=tt)
        d = self.iot.describe_thing_type(thingTypeName=tt)
        self.assertEqual(d["thingTypeName"], tt)
        self.assertIs(d["thingTypeMetadata"]["deprecated"], False)

    def test_create_existing_with_different_properties_is_resource_already_exists(self):
        # CreateThingType declares ResourceAlreadyExistsException (model, HTTP 409).
        tt = self.name("type")
        self.create_type(tt, "one")
        self.assertClientError(self.create_type, "ResourceAlreadyExistsException", 409, tt, "two")

    def test_invalid_name_is_invalid_request(self):
        e = self.assertClientError(self.iot.create_thing_type, "InvalidRequestException", 400,
                                   thingTypeName="no spaces allowed")
        self.assertIn("thingTypeName", e.response["Error"]["Message"])

    def test_describe_missing_is_resource_not_found(self):
        self.assertClientError(self.iot.describe_thing_type, "ResourceNotFoundException", 404,
                               thingTypeName=self.name("missing"))

    def test_list_and_filter_by_name(self):
        types = [self.name(f"ty{i}") for i in range(3)]
        for i, tt in enumerate(types):
            self.create_type(tt, f"description {i}")
        listed = self.all_pages("list_thing_types", "thingTypes")
        listed_names = [t["thingTypeName"] for t in listed]
        self.assertEqual(len(listed_names), len(set(listed_names)))
        for tt in types:
            self.assertIn(tt, listed_names)
        # thingTypeName filter (no name is a prefix of another here, so exact and prefix
        # matching — moto notes AWS matches by prefix — give the same answer).
        only = self.iot.list_thing_types(thingTypeName=types[1])["thingTypes"]
        self.assertEqual([t["thingTypeName"] for t in only], [types[1]])
        item = only[0]
        self.assertEqual(item["thingTypeArn"], fk.arn("thingtype", types[1]))
        self.assertEqual(item["thingTypeProperties"]["thingTypeDescription"], "description 1")
        self.assertIs(item["thingTypeMetadata"]["deprecated"], False)
        self.assertRecentDatetime(item["thingTypeMetadata"]["creationDate"])

    def test_list_paginates_with_page_size_one(self):
        types = [self.name(f"pg{i}") for i in range(3)]
        for tt in types:
            self.create_type(tt)
        names = [t["thingTypeName"] for t in
                 self.all_pages("list_thing_types", "thingTypes", PaginationConfig={"PageSize": 1})]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(set(types) <= set(names))

    def test_update_cannot_change_description_or_searchable_attributes(self):
        # "Thing types are immutable. They can't be changed after they are defined."
        # (developerguide deprecate-thing-type.html); CloudFormation's AWS::IoT::ThingType marks
        # ThingTypeDescription and SearchableAttributes "Update requires: Replacement" and only
        # Mqtt5Configuration "No interruption", i.e. UpdateThingType only changes
        # mqtt5Configuration. InvalidRequestException is the declared code that fits.
        tt = self.name("type")
        self.create_type(tt, "before", ["model"])
        self.assertClientError(self.iot.update_thing_type, "InvalidRequestException", 400,
                               thingTypeName=tt, thingTypeProperties={"thingTypeDescription": "after"})
        self.assertClientError(self.iot.update_thing_type, "InvalidRequestException", 400,
                               thingTypeName=tt, thingTypeProperties={"searchableAttributes": ["other"]})
        props = self.iot.describe_thing_type(thingTypeName=tt)["thingTypeProperties"]
        self.assertEqual(props["thingTypeDescription"], "before")
        self.assertEqual(props["searchableAttributes"], ["model"])

    def test_update_mqtt5_configuration_is_visible(self):
        tt = self.name("type")
        self.create_type(tt, "desc", ["model"])
        propagating = [{"userPropertyKey": "serial", "thingAttribute": "serialNumber"},
                       {"userPropertyKey": "client", "connectionAttribute": "iot:ClientId"}]
        self.iot.update_thing_type(thingTypeName=tt, thingTypeProperties={
            "mqtt5Configuration": {"propagatingAttributes": propagating}})
        props = self.iot.describe_thing_type(thingTypeName=tt)["thingTypeProperties"]
        self.assertEqual(props["mqtt5Configuration"]["propagatingAttributes"], propagating)
        self.assertEqual(props["thingTypeDescription"], "desc")
        self.assertEqual(props["searchableAttributes"], ["model"])

    def test_update_missing_is_resource_not_found(self):
        self.assertClientError(self.iot.update_thing_type, "ResourceNotFoundException", 404,
                               thingTypeName=self.name("missing"),
                               thingTypeProperties={"mqtt5Configuration": {"propagatingAttributes": []}})

    def test_deprecate_and_undo(self):
        tt = self.name("type")
        self.create_type(tt)
        self.iot.deprecate_thing_type(thingTypeName=tt)
        meta = self.iot.describe_thing_type(thingTypeName=tt)["thingTypeMetadata"]
        self.assertIs(meta["deprecated"], True)
        self.assertIn("deprecationDate", meta)
        self.assertRecentDatetime(meta["deprecationDate"], "thingTypeMetadata.deprecationDate")
        self.assertRecentDatetime(meta["creationDate"])
        self.assertLessEqual(meta["creationDate"], meta["deprecationDate"])

        self.iot.deprecate_thing_type(thingTypeName=tt, undoDeprecate=True)
        meta = self.iot.describe_thing_type(thingTypeName=tt)["thingTypeMetadata"]
        self.assertIs(meta["deprecated"], False)

    def test_deprecate_missing_is_resource_not_found(self):
        self.assertClientError(self.iot.deprecate_thing_type, "ResourceNotFoundException", 404,
                               thingTypeName=self.name("missing"))

    def test_delete_requires_deprecation(self):
        # DeleteThingType doc: "To delete a thing type, first mark it as deprecated ...".
        # Only InvalidRequestException fits among the declared errors. (AWS also makes you wait
        # five minutes after deprecating; Fleetkey does not emulate the wait.)
        tt = self.name("type")
        self.create_type(tt)
        self.assertClientError(self.iot.delete_thing_type, "InvalidRequestException", 400, thingTypeName=tt)
        self.iot.describe_thing_type(thingTypeName=tt)  # still there
        self.iot.deprecate_thing_type(thingTypeName=tt)
        self.iot.delete_thing_type(thingTypeName=tt)
        self.assertClientError(self.iot.describe_thing_type, "ResourceNotFoundException", 404, thingTypeName=tt)
        listed = [t["thingTypeName"] for t in self.iot.list_thing_types(thingTypeName=tt)["thingTypes"]]
        self.assertNotIn(tt, listed)

    def test_delete_with_associated_things_is_invalid_request(self):
        # DeleteThingType doc: "You cannot delete a thing type if it has things associated with
        # it" — remove the association with UpdateThing first. Code unconfirmed (the only
        # declared client error that fits is InvalidRequestException).
        tt = self.name("type")
        self.create_type(tt)
        thing = self.name("t")
        self.create_thing(thing, None, tt)
        self.iot.deprecate_thing_type(thingTypeName=tt)
        self.assertClientError(self.iot.delete_thing_type, "InvalidRequestException", 400, thingTypeName=tt)
        self.iot.update_thing(thingName=thing, removeThingType=True)
        self.iot.delete_thing_type(thingTypeName=tt)
        self.assertClientError(self.iot.describe_thing_type, "ResourceNotFoundException", 404, thingTypeName=tt)

    def test_delete_missing_is_resource_not_found(self):
        # DeleteThingType declares ResourceNotFoundException (model).
        self.assertClientError(self.iot.delete_thing_type, "ResourceNotFoundException", 404,
                               thingTypeName=self.name("missing"))


if __name__ == "__main__":
    unittest.main()
