"""ListThings: filters, maxResults bounds, nextToken, and boto3 paginators over 600 things."""

import concurrent.futures
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk


class ListThingsFilterTests(CompatTestCase):

    def setUp(self):
        super().setUp()
        # An attribute name unique to this test scopes every filter to this test's things.
        self.key = "k" + self.prefix.replace("-", "")[:40]

    def names(self, **kwargs):
        return sorted(t["thingName"] for t in self.all_pages("list_things", "things", **kwargs))

    def test_attribute_name_and_value(self):
        red = [self.name(f"red{i}") for i in range(3)]
        blue = [self.name(f"blue{i}") for i in range(2)]
        for n in red:
            self.create_thing(n, {self.key: "red"})
        for n in blue:
            self.create_thing(n, {self.key: "blue"})
        self.create_thing(self.name("other"), {"unrelated": "red"})
        self.assertEqual(self.names(attributeName=self.key, attributeValue="red"), sorted(red))
        self.assertEqual(self.names(attributeName=self.key, attributeValue="blue"), sorted(blue))
        self.assertEqual(self.names(attributeName=self.key, attributeValue="green"), [])

    def test_attribute_name_only(self):
        # awscli examples/iot/list-things.rst, example 2: --attribute-name alone lists the things
        # that have the attribute.
        having = [self.name(f"h{i}") for i in range(2)]
        self.create_thing(having[0], {self.key: "x"})
        self.create_thing(having[1], {self.key: "y"})
        self.create_thing(self.name("without"), {"other": "x"})
        self.assertEqual(self.names(attributeName=self.key), sorted(having))

    def test_items_have_thing_attribute_fields(self):
        tt = self.name("type")
        self.create_type(tt)
        name = self.name("t")
        self.create_thing(name, {self.key: "v", "b": "2"}, tt)
        things = self.iot.list_things(attributeName=self.key, attributeValue="v")["things"]
        self.assertEqual(len(things), 1)
        # ThingAttribute = thingName, thingTypeName, thingArn, attributes, version (model).
        self.assertEqual(things[0], {
            "thingName": name, "thingTypeName": tt, "thingArn": fk.arn("thing", name),
            "attributes": {self.key: "v", "b": "2"}, "version": 1,
        })

    def test_use_prefix_attribute_value(self):
        # usePrefixAttributeValue doc: true → values that start with attributeValue; false or
        # absent → whole-value match.
        self.create_thing(self.name("a1"), {self.key: "alpha-1"})
        self.create_thing(self.name("a2"), {self.key: "alpha-2"})
        self.create_thing(self.name("b1"), {self.key: "beta-1"})
        self.assertEqual(self.names(attributeName=self.key, attributeValue="alpha", usePrefixAttributeValue=True),
                         sorted([self.name("a1"), self.name("a2")]))
        self.assertEqual(self.names(attributeName=self.key, attributeValue="alpha"), [])
        self.assertEqual(self.names(attributeName=self.key, attributeValue="alpha", usePrefixAttributeValue=False), [])
        self.assertEqual(self.names(attributeName=self.key, attributeValue="alpha-1"), [self.name("a1")])

    def test_attribute_value_with_reserved_query_characters(self):
        # Values may contain / : = @ , # [ ] (AttributeValue pattern); in the query string they
        # are percent-encoded and SigV4's canonical query string must match the server's.
        value = "a/b:c=d@e,f#g[h]"
        name = self.name("t")
        self.create_thing(name, {self.key: value})
        self.assertEqual(self.names(attributeName=self.key, attributeValue=value), [name])

    def test_thing_type_filter(self):
        tt = self.name("type")
        other = self.name("othertype")
        self.create_type(tt)
        self.create_type(other)
        typed = [self.name(f"typed{i}") for i in range(3)]
        for n in typed:
            self.create_thing(n, {self.key: "v"}, tt)
        self.create_thing(self.name("other"), {self.key: "v"}, other)
        self.create_thing(self.name("untyped"), {self.key: "v"})
        self.assertEqual(self.names(thingTypeName=tt), sorted(typed))
        # Combined with an attribute filter.
        self.create_thing(self.name("typed-w"), {self.key: "w"}, tt)
        self.assertEqual(self.names(thingTypeName=tt, attributeName=self.key, attributeValue="v"), sorted(typed))

    def test_deleted_things_disappear_from_lists(self):
        a, b = self.name("a"), self.name("b")
        self.create_thing(a, {self.key: "v"})
        self.create_thing(b, {self.key: "v"})
        self.iot.delete_thing(thingName=a)
        self.assertEqual(self.names(attributeName=self.key, attributeValue="v"), [b])

    def test_updated_attributes_are_what_the_filter_sees(self):
        name = self.name("t")
        self.create_thing(name, {self.key: "old"})
        self.iot.update_thing(thingName=name, attributePayload={"attributes": {self.key: "new"}, "merge": True})
        self.assertEqual(self.names(attributeName=self.key, attributeValue="old"), [])
        self.assertEqual(self.names(attributeName=self.key, attributeValue="new"), [name])


class ListThingsPagingTests(CompatTestCase):

    def setUp(self):
        super().setUp()
        self.key = "k" + self.prefix.replace("-", "")[:40]

    def test_max_results_and_next_token(self):
        names = sorted(self.name(f"p{i}") for i in range(5))
        for n in names:
            self.create_thing(n, {self.key: "v"})
        seen, token, pages = [], None, 0
        while True:
            kwargs = {"attributeName": self.key, "attributeValue": "v", "maxResults": 2}
            if token:
                kwargs["nextToken"] = token
            page = self.iot.list_things(**kwargs)
            pages += 1
            self.assertLessEqual(len(page["things"]), 2)
            seen.extend(t["thingName"] for t in page["things"])
            token = page.get("nextToken")
            if not token:
                break
            self.assertLess(pages, 10, "pagination does not terminate")
        self.assertEqual(sorted(seen), names)
        self.assertEqual(len(seen), len(set(seen)))
        self.assertGreaterEqual(pages, 3)

    def test_max_results_one_returns_one_and_a_token(self):
        for i in range(2):
            self.create_thing(self.name(f"p{i}"), {self.key: "v"})
        page = self.iot.list_things(attributeName=self.key, attributeValue="v", maxResults=1)
        self.assertEqual(len(page["things"]), 1)
        self.assertIn("nextToken", page)

    def test_max_results_250_accepted(self):
        self.create_thing(self.name("p"), {self.key: "v"})
        page = self.iot.list_things(attributeName=self.key, attributeValue="v", maxResults=250)
        self.assertEqual([t["thingName"] for t in page["things"]], [self.name("p")])
        self.assertNotIn("nextToken", page)

    def test_max_results_out_of_range_is_invalid_request(self):
        # RegistryMaxResults is 1..250 in the model. botocore itself rejects 0 (min check), so the
        # 0 case goes through a client with parameter validation off to reach the server.
        unvalidated = fk.client(validate=False)
        for bad in (0, 251, 1000):
            with self.subTest(maxResults=bad):
                self.assertClientError(unvalidated.list_things, "InvalidRequestException", 400, maxResults=bad)

    def test_garbage_next_token_is_invalid_request(self):
        # Unconfirmed on AWS: an unparseable token should be a 400, not a 500 or an empty page.
        self.assertClientError(self.iot.list_things, "InvalidRequestException", 400,
                               nextToken="this-is-not-a-token", maxResults=5)

    def test_paginator_over_600_things(self):
        # Issue 2: "boto3 paginators over 600 things". PageSize=100 → maxResults=100 per call.
        names = [self.name(f"n{i:03d}") for i in range(600)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda n: self.create_thing(n, {self.key: "batch"}), names))

        def walk(**filters):
            pages, items = 0, []
            paginator = self.iot.get_paginator("list_things")
            for page in paginator.paginate(PaginationConfig={"PageSize": 100}, **filters):
                pages += 1
                self.assertLessEqual(len(page["things"]), 100)
                items.extend(t["thingName"] for t in page["things"])
            return pages, items

        pages, filtered = walk(attributeName=self.key, attributeValue="batch")
        self.assertEqual(len(filtered), 600)
        self.assertEqual(len(set(filtered)), 600, "a thing was returned twice")
        self.assertEqual(set(filtered), set(names))
        self.assertGreaterEqual(pages, 6)
        # Stable order: a second walk returns the same sequence.
        self.assertEqual(walk(attributeName=self.key, attributeValue="batch")[1], filtered)

        # Unfiltered, over everything the suite has created so far: no duplicates and all 600.
        _, everything = walk()
        self.assertEqual(len(everything), len(set(everything)), "unfiltered listing repeats a thing")
        self.assertTrue(set(names) <= set(everything))
        ours = [n for n in everything if n in set(names)]
        self.assertEqual(ours, [n for n in walk()[1] if n in set(names)], "unfiltered order is not stable")

    def test_paginator_max_items_resumes(self):
        # The paginator's MaxItems/StartingToken re-enters the server's nextToken.
        names = sorted(self.name(f"p{i}") for i in range(7))
        for n in names:
            self.create_thing(n, {self.key: "v"})
        paginator = self.iot.get_paginator("list_things")
        first = paginator.paginate(attributeName=self.key, attributeValue="v",
                                   PaginationConfig={"PageSize": 2, "MaxItems": 3}).build_full_result()
        self.assertEqual(len(first["things"]), 3)
        self.assertIn("NextToken", first)
        rest = paginator.paginate(attributeName=self.key, attributeValue="v",
                                  PaginationConfig={"PageSize": 2, "StartingToken": first["NextToken"]}
                                  ).build_full_result()
        got = [t["thingName"] for t in first["things"] + rest["things"]]
        self.assertEqual(sorted(got), names)
        self.assertEqual(len(got), len(set(got)))


if __name__ == "__main__":
    unittest.main()
