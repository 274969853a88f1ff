"""Static thing groups: CRUD, hierarchy, listing, membership and limits (boto3)."""

import unittest

from compat_base import CompatTestCase, tags_dict
import fleetkey_server as fk


class ThingGroupCrudTests(CompatTestCase):

    def test_create_and_describe_root(self):
        g = self.name("root")
        created = self.create_group(g, description="Lobby sensors", attributes={"site": "ams", "floor": "0"},
                                    tags=[{"Key": "owner", "Value": "ops"}])
        self.assertEqual(created["thingGroupName"], g)
        self.assertEqual(created["thingGroupArn"], f"arn:aws:iot:eu-west-1:000000000000:thinggroup/{g}")
        self.assertTrue(created["thingGroupId"])

        d = self.iot.describe_thing_group(thingGroupName=g)
        self.assertEqual(d["thingGroupName"], g)
        self.assertEqual(d["thingGroupId"], created["thingGroupId"])
        self.assertEqual(d["thingGroupArn"], created["thingGroupArn"])
        self.assertEqual(d["version"], 1)
        self.assertEqual(d["thingGroupProperties"]["thingGroupDescription"], "Lobby sensors")
        self.assertEqual(d["thingGroupProperties"]["attributePayload"]["attributes"], {"site": "ams", "floor": "0"})
        meta = d["thingGroupMetadata"]
        self.assertRecentDatetime(meta["creationDate"], "thingGroupMetadata.creationDate")
        self.assertNotIn("parentGroupName", meta)
        self.assertNoKeyOrEmpty(meta, "rootToParentThingGroups")
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=created["thingGroupArn"])["tags"]),
                         {"owner": "ops"})

    def test_describe_nested_lists_ancestors_root_first(self):
        # awscli examples/iot/describe-thing-group.rst: thingGroupMetadata.parentGroupName and
        # rootToParentThingGroups [{groupName, groupArn}] from the root down to the parent.
        root, mid, leaf = self.name("root"), self.name("mid"), self.name("leaf")
        self.create_group(root)
        self.create_group(mid, parent=root)
        self.create_group(leaf, parent=mid)
        meta = self.iot.describe_thing_group(thingGroupName=leaf)["thingGroupMetadata"]
        self.assertEqual(meta["parentGroupName"], mid)
        self.assertEqual(meta["rootToParentThingGroups"], [
            {"groupName": root, "groupArn": fk.arn("thinggroup", root)},
            {"groupName": mid, "groupArn": fk.arn("thinggroup", mid)},
        ])
        meta = self.iot.describe_thing_group(thingGroupName=mid)["thingGroupMetadata"]
        self.assertEqual(meta["parentGroupName"], root)
        self.assertEqual(meta["rootToParentThingGroups"], [{"groupName": root, "groupArn": fk.arn("thinggroup", root)}])

    def test_identical_repeat_succeeds_with_same_id(self):
        # CreateThingGroup doc: "If the ThingGroup that you create has the exact same attributes as
        # an existing ThingGroup, you will get a 200 success response." Same thingGroupId shown by
        # the CLI transcript in getmoto/moto#5316.
        g = self.name("g")
        first = self.create_group(g, description="same", attributes={"a": "1"})
        second = self.create_group(g, description="same", attributes={"a": "1"})
        self.assertEqual(second["thingGroupId"], first["thingGroupId"])
        self.assertEqual(second["thingGroupArn"], first["thingGroupArn"])
        self.assertEqual(self.iot.describe_thing_group(thingGroupName=g)["version"], 1)

    def test_repeat_with_different_properties_is_resource_already_exists(self):
        # getmoto/moto#5316 CLI transcript: "ResourceAlreadyExistsException ... Thing Group example
        # already exists in current account with different properties".
        g = self.name("g")
        self.create_group(g, description="one")
        self.assertClientError(self.create_group, "ResourceAlreadyExistsException", 409, g, None, "two")

    def test_invalid_name_is_invalid_request(self):
        e = self.assertClientError(self.iot.create_thing_group, "InvalidRequestException", 400,
                                   thingGroupName="has space")
        self.assertIn("thingGroupName", e.response["Error"]["Message"])

    def test_describe_missing_is_resource_not_found(self):
        self.assertClientError(self.iot.describe_thing_group, "ResourceNotFoundException", 404,
                               thingGroupName=self.name("missing"))

    def test_update_with_expected_version(self):
        # awscli examples/iot/update-thing-group.rst: the response is {"version": 2}.
        g = self.name("g")
        self.create_group(g, description="v1", attributes={"a": "1"})
        resp = self.iot.update_thing_group(thingGroupName=g, thingGroupProperties={"thingGroupDescription": "v2"})
        self.assertEqual(resp["version"], 2)
        # UpdateThingGroup declares VersionConflictException (model, HTTP 409).
        self.assertClientError(self.iot.update_thing_group, "VersionConflictException", 409,
                               thingGroupName=g, expectedVersion=1,
                               thingGroupProperties={"thingGroupDescription": "stale"})
        resp = self.iot.update_thing_group(thingGroupName=g, expectedVersion=2,
                                           thingGroupProperties={"thingGroupDescription": "v3"})
        self.assertEqual(resp["version"], 3)
        d = self.iot.describe_thing_group(thingGroupName=g)
        self.assertEqual(d["version"], 3)
        self.assertEqual(d["thingGroupProperties"]["thingGroupDescription"], "v3")

    def test_update_attributes_merge(self):
        # AttributePayload.merge is "only valid when calling UpdateThing or UpdateThingGroup".
        g = self.name("g")
        self.create_group(g, attributes={"a": "1", "b": "2"})
        self.iot.update_thing_group(thingGroupName=g, thingGroupProperties={
            "attributePayload": {"attributes": {"b": "20", "c": "3"}, "merge": True}})
        attrs = self.iot.describe_thing_group(thingGroupName=g)["thingGroupProperties"]["attributePayload"]["attributes"]
        self.assertEqual(attrs, {"a": "1", "b": "20", "c": "3"})
        self.iot.update_thing_group(thingGroupName=g, thingGroupProperties={
            "attributePayload": {"attributes": {"z": "9"}, "merge": False}})
        attrs = self.iot.describe_thing_group(thingGroupName=g)["thingGroupProperties"]["attributePayload"]["attributes"]
        self.assertEqual(attrs, {"z": "9"})

    def test_update_missing_is_resource_not_found(self):
        self.assertClientError(self.iot.update_thing_group, "ResourceNotFoundException", 404,
                               thingGroupName=self.name("missing"),
                               thingGroupProperties={"thingGroupDescription": "x"})

    def test_delete_group_with_child_is_invalid_request(self):
        # developerguide thing-groups.md: deleting a group with child groups fails with
        # InvalidRequestException "Cannot delete thing group : X when there are still child groups
        # attached to it".
        parent, child = self.name("parent"), self.name("child")
        self.create_group(parent)
        self.create_group(child, parent=parent)
        self.assertClientError(self.iot.delete_thing_group, "InvalidRequestException", 400, thingGroupName=parent)
        self.iot.delete_thing_group(thingGroupName=child)
        self.iot.delete_thing_group(thingGroupName=parent)
        self.assertClientError(self.iot.describe_thing_group, "ResourceNotFoundException", 404, thingGroupName=parent)

    def test_delete_missing_group_succeeds(self):
        # DeleteThingGroup declares no ResourceNotFoundException (model); moto: "AWS returns
        # success even if the thing group does not exist".
        resp = self.iot.delete_thing_group(thingGroupName=self.name("never-created"))
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)

    def test_delete_with_expected_version(self):
        g = self.name("g")
        self.create_group(g)
        self.iot.update_thing_group(thingGroupName=g, thingGroupProperties={"thingGroupDescription": "x"})
        self.assertClientError(self.iot.delete_thing_group, "VersionConflictException", 409,
                               thingGroupName=g, expectedVersion=1)
        self.iot.delete_thing_group(thingGroupName=g, expectedVersion=2)
        self.assertClientError(self.iot.describe_thing_group, "ResourceNotFoundException", 404, thingGroupName=g)

    def test_delete_group_with_things_removes_memberships(self):
        # thing-groups.md: "You can delete a group that has child things".
        g, t = self.name("g"), self.name("t")
        self.create_group(g)
        self.iot.create_thing(thingName=t)
        self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        self.iot.delete_thing_group(thingGroupName=g)
        self.assertEqual(self.iot.list_thing_groups_for_thing(thingName=t)["thingGroups"], [])
        self.iot.describe_thing(thingName=t)


class ThingGroupHierarchyTests(CompatTestCase):

    def build_tree(self):
        """root ─┬─ a ── a1
                 └─ b"""
        self.root, self.a, self.a1, self.b = (self.name(s) for s in ("root", "a", "a1", "b"))
        self.create_group(self.root)
        self.create_group(self.a, parent=self.root)
        self.create_group(self.a1, parent=self.a)
        self.create_group(self.b, parent=self.root)

    def group_names(self, **kwargs):
        groups = self.all_pages("list_thing_groups", "thingGroups", **kwargs)
        names = [g["groupName"] for g in groups]
        self.assertEqual(len(names), len(set(names)), f"duplicates in {names}")
        for g in groups:
            self.assertEqual(g["groupArn"], fk.arn("thinggroup", g["groupName"]))
        return sorted(names)

    def test_list_all_groups(self):
        # awscli examples/iot/list-thing-groups.rst: without filters both root and child groups
        # are listed.
        self.build_tree()
        names = self.group_names()
        for g in (self.root, self.a, self.a1, self.b):
            self.assertIn(g, names)

    def test_name_prefix_filter(self):
        self.build_tree()
        self.assertEqual(self.group_names(namePrefixFilter=self.prefix), sorted([self.root, self.a, self.a1, self.b]))
        self.assertEqual(self.group_names(namePrefixFilter=self.name("a")), sorted([self.a, self.a1]))

    def test_parent_group_direct_children_and_recursive(self):
        # ListThingGroups.recursive doc: "If true, return child groups as well."
        self.build_tree()
        self.assertEqual(self.group_names(parentGroup=self.root, recursive=False), sorted([self.a, self.b]))
        self.assertEqual(self.group_names(parentGroup=self.root, recursive=True), sorted([self.a, self.a1, self.b]))
        self.assertEqual(self.group_names(parentGroup=self.a, recursive=False), [self.a1])
        self.assertEqual(self.group_names(parentGroup=self.a1, recursive=True), [])
        self.assertEqual(self.group_names(parentGroup=self.root, recursive=True, namePrefixFilter=self.name("a")),
                         sorted([self.a, self.a1]))

    def test_list_paginates(self):
        self.build_tree()
        names = [g["groupName"] for g in self.all_pages(
            "list_thing_groups", "thingGroups", namePrefixFilter=self.prefix, PaginationConfig={"PageSize": 1})]
        self.assertEqual(sorted(names), sorted([self.root, self.a, self.a1, self.b]))

    def test_unknown_parent_group_filter_is_resource_not_found(self):
        # ListThingGroups declares ResourceNotFoundException (model); moto raises it for an
        # unknown parentGroup.
        self.assertClientError(self.iot.list_thing_groups, "ResourceNotFoundException", 404,
                               parentGroup=self.name("missing"))

    def test_depth_seven_ok_eight_rejected(self):
        # Quota: maximum depth of a group hierarchy is 7 ([L19], thing-groups.md limits).
        # CreateThingGroup declares only InvalidRequestException among client errors.
        chain = [self.name(f"d{i}") for i in range(1, 9)]
        self.create_group(chain[0])
        for depth in range(2, 8):
            self.create_group(chain[depth - 1], parent=chain[depth - 2])
        meta = self.iot.describe_thing_group(thingGroupName=chain[6])["thingGroupMetadata"]
        self.assertEqual([g["groupName"] for g in meta["rootToParentThingGroups"]], chain[:6])
        self.assertClientError(self.create_group, "InvalidRequestException", 400, chain[7], chain[6])
        self.assertClientError(self.iot.describe_thing_group, "ResourceNotFoundException", 404,
                               thingGroupName=chain[7])


class MembershipTests(CompatTestCase):

    def test_add_by_name_list_both_ways_and_remove(self):
        g, t = self.name("g"), self.name("t")
        self.create_group(g)
        self.iot.create_thing(thingName=t)
        self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        # ListThingsInThingGroup returns thing names (awscli examples/iot/list-things-in-thing-group.rst).
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=g)["things"], [t])
        self.assertEqual(self.iot.list_thing_groups_for_thing(thingName=t)["thingGroups"],
                         [{"groupName": g, "groupArn": fk.arn("thinggroup", g)}])
        self.iot.remove_thing_from_thing_group(thingGroupName=g, thingName=t)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=g)["things"], [])
        self.assertEqual(self.iot.list_thing_groups_for_thing(thingName=t)["thingGroups"], [])

    def test_add_and_remove_by_arn(self):
        g, t = self.name("g"), self.name("t")
        garn = self.create_group(g)["thingGroupArn"]
        tarn = self.iot.create_thing(thingName=t)["thingArn"]
        self.iot.add_thing_to_thing_group(thingGroupArn=garn, thingArn=tarn)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=g)["things"], [t])
        self.iot.remove_thing_from_thing_group(thingGroupArn=garn, thingArn=tarn)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=g)["things"], [])

    def test_add_twice_is_idempotent(self):
        # moto: "aws ignores duplicate registration".
        g, t = self.name("g"), self.name("t")
        self.create_group(g)
        self.iot.create_thing(thingName=t)
        self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=g)["things"], [t])

    def test_update_thing_groups_for_thing(self):
        g1, g2, g3, t = self.name("g1"), self.name("g2"), self.name("g3"), self.name("t")
        for g in (g1, g2, g3):
            self.create_group(g)
        self.iot.create_thing(thingName=t)
        self.iot.add_thing_to_thing_group(thingGroupName=g3, thingName=t)
        self.iot.update_thing_groups_for_thing(thingName=t, thingGroupsToAdd=[g1, g2], thingGroupsToRemove=[g3])
        groups = sorted(g["groupName"] for g in self.iot.list_thing_groups_for_thing(thingName=t)["thingGroups"])
        self.assertEqual(groups, sorted([g1, g2]))
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=g3)["things"], [])

    def test_list_things_in_group_recursive(self):
        # ListThingsInThingGroup.recursive doc: "When true, list things in this thing group and
        # in all child groups as well." One thing per level: a thing may not be in two groups of
        # the same hierarchy (thing-groups.md).
        root, child, grandchild = self.name("root"), self.name("child"), self.name("grand")
        self.create_group(root)
        self.create_group(child, parent=root)
        self.create_group(grandchild, parent=child)
        t_root, t_child, t_grand = self.name("troot"), self.name("tchild"), self.name("tgrand")
        for t, g in ((t_root, root), (t_child, child), (t_grand, grandchild)):
            self.iot.create_thing(thingName=t)
            self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        self.assertEqual(sorted(self.all_pages("list_things_in_thing_group", "things", thingGroupName=root)), [t_root])
        self.assertEqual(sorted(self.all_pages("list_things_in_thing_group", "things",
                                               thingGroupName=root, recursive=False)), [t_root])
        self.assertEqual(sorted(self.all_pages("list_things_in_thing_group", "things",
                                               thingGroupName=root, recursive=True)),
                         sorted([t_root, t_child, t_grand]))
        self.assertEqual(sorted(self.all_pages("list_things_in_thing_group", "things",
                                               thingGroupName=child, recursive=True)),
                         sorted([t_child, t_grand]))

    def test_list_things_in_group_paginates(self):
        g = self.name("g")
        self.create_group(g)
        things = sorted(self.name(f"t{i}") for i in range(5))
        for t in things:
            self.iot.create_thing(thingName=t)
            self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        page = self.iot.list_things_in_thing_group(thingGroupName=g, maxResults=2)
        self.assertEqual(len(page["things"]), 2)
        self.assertIn("nextToken", page)
        got = self.all_pages("list_things_in_thing_group", "things", thingGroupName=g,
                             PaginationConfig={"PageSize": 2})
        self.assertEqual(sorted(got), things)
        self.assertEqual(len(got), len(set(got)))

    def test_deleting_a_thing_removes_it_from_its_groups(self):
        g, t = self.name("g"), self.name("t")
        self.create_group(g)
        self.iot.create_thing(thingName=t)
        self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        self.iot.delete_thing(thingName=t)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=g)["things"], [])

    def test_thing_in_at_most_ten_groups(self):
        # thing-groups.md: "You can add a thing to a maximum of 10 groups." AddThingToThingGroup
        # declares InvalidRequestException, ThrottlingException, InternalFailureException and
        # ResourceNotFoundException only (model) — LimitExceededException is not among them — so
        # the 11th group must be InvalidRequestException (HTTP 400).
        t = self.name("t")
        self.iot.create_thing(thingName=t)
        groups = [self.name(f"g{i:02d}") for i in range(11)]
        for g in groups:
            self.create_group(g)
        for g in groups[:10]:
            self.iot.add_thing_to_thing_group(thingGroupName=g, thingName=t)
        self.assertClientError(self.iot.add_thing_to_thing_group, "InvalidRequestException", 400,
                               thingGroupName=groups[10], thingName=t)
        self.assertEqual(len(self.all_pages("list_thing_groups_for_thing", "thingGroups", thingName=t)), 10)
        self.assertEqual(self.iot.list_things_in_thing_group(thingGroupName=groups[10])["things"], [])
        # The same limit through UpdateThingGroupsForThing.
        self.assertClientError(self.iot.update_thing_groups_for_thing, "InvalidRequestException", 400,
                               thingName=t, thingGroupsToAdd=[groups[10]])
        # Swapping one group for another in one call keeps it at 10 and is allowed.
        self.iot.update_thing_groups_for_thing(thingName=t, thingGroupsToAdd=[groups[10]],
                                               thingGroupsToRemove=[groups[0]])
        names = sorted(g["groupName"] for g in self.all_pages("list_thing_groups_for_thing", "thingGroups", thingName=t))
        self.assertEqual(names, sorted(groups[1:]))

    def test_unknown_group_or_thing_is_resource_not_found(self):
        # AddThingToThingGroup, ListThingsInThingGroup and ListThingGroupsForThing declare
        # ResourceNotFoundException (model).
        g, t = self.name("g"), self.name("t")
        self.create_group(g)
        self.iot.create_thing(thingName=t)
        self.assertClientError(self.iot.add_thing_to_thing_group, "ResourceNotFoundException", 404,
                               thingGroupName=self.name("nogroup"), thingName=t)
        self.assertClientError(self.iot.add_thing_to_thing_group, "ResourceNotFoundException", 404,
                               thingGroupName=g, thingName=self.name("nothing"))
        self.assertClientError(self.iot.list_things_in_thing_group, "ResourceNotFoundException", 404,
                               thingGroupName=self.name("nogroup"))
        self.assertClientError(self.iot.list_thing_groups_for_thing, "ResourceNotFoundException", 404,
                               thingName=self.name("nothing"))
        self.assertClientError(self.iot.update_thing_groups_for_thing, "ResourceNotFoundException", 404,
                               thingName=t, thingGroupsToAdd=[self.name("nogroup")])
        self.assertEqual(self.iot.list_thing_groups_for_thing(thingName=t)["thingGroups"], [])


if __name__ == "__main__":
    unittest.main()
