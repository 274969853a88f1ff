"""Thing principals: AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals(V2),
ListPrincipalThings(V2), and DeleteThing with a principal attached (boto3).

The principal travels in the `x-amzn-principal` header (model: AttachThingPrincipal, DetachThingPrincipal,
ListPrincipalThings(V2) bind `principal` to that header), as boto3 sends it.
"""

import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk


class PrincipalTestCase(CompatTestCase):

    def thing(self, suffix: str = "t") -> str:
        name = self.name(suffix)
        self.iot.create_thing(thingName=name)
        return name

    def cert(self, active: bool = True) -> dict:
        return self.iot.create_keys_and_certificate(setAsActive=active)

    def v2_principals(self, thing: str, **kwargs) -> dict:
        out = {}
        for page in self.iot.get_paginator("list_thing_principals_v2").paginate(thingName=thing, **kwargs):
            for o in page["thingPrincipalObjects"]:
                out[o["principal"]] = o.get("thingPrincipalType")
        return out

    def v2_things(self, principal: str, **kwargs) -> dict:
        out = {}
        for page in self.iot.get_paginator("list_principal_things_v2").paginate(principal=principal, **kwargs):
            for o in page["principalThingObjects"]:
                out[o["thingName"]] = o.get("thingPrincipalType")
        return out


class AttachDetachTests(PrincipalTestCase):

    def test_attach_list_detach(self):
        thing, c = self.thing(), self.cert()
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [c["certificateArn"]])
        self.assertEqual(self.iot.list_principal_things(principal=c["certificateArn"])["things"], [thing])
        self.iot.detach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [])
        self.assertEqual(self.iot.list_principal_things(principal=c["certificateArn"])["things"], [])

    def test_attach_twice_keeps_one_attachment(self):
        thing, c = self.thing(), self.cert()
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [c["certificateArn"]])

    def test_several_certificates_on_one_thing_paginate(self):
        thing = self.thing()
        arns = [self.cert()["certificateArn"] for _ in range(3)]
        for a in arns:
            self.iot.attach_thing_principal(thingName=thing, principal=a)
        # ListThingPrincipals pages with maxResults/nextToken (model, paginators-1.json).
        first = self.iot.list_thing_principals(thingName=thing, maxResults=2)
        self.assertEqual(len(first["principals"]), 2)
        self.assertTrue(first.get("nextToken"))
        listed = self.all_pages("list_thing_principals", "principals", thingName=thing,
                                PaginationConfig={"PageSize": 1})
        self.assertEqual(sorted(listed), sorted(arns))

    def test_non_exclusive_certificate_on_several_things(self):
        # NON_EXCLUSIVE_THING: "Multiple things can be attached to the principal" (model).
        things = [self.thing(f"t{i}") for i in range(3)]
        c = self.cert()
        for t in things:
            self.iot.attach_thing_principal(thingName=t, principal=c["certificateArn"])
        listed = self.all_pages("list_principal_things", "things", principal=c["certificateArn"],
                                PaginationConfig={"PageSize": 2})
        self.assertEqual(sorted(listed), sorted(things))

    def test_unknown_thing_is_resource_not_found(self):
        # AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals(V2) declare
        # ResourceNotFoundException (404, model).
        c = self.cert()
        missing = self.name("missing")
        self.assertClientError(self.iot.attach_thing_principal, "ResourceNotFoundException", 404,
                               thingName=missing, principal=c["certificateArn"])
        self.assertClientError(self.iot.detach_thing_principal, "ResourceNotFoundException", 404,
                               thingName=missing, principal=c["certificateArn"])
        self.assertClientError(self.iot.list_thing_principals, "ResourceNotFoundException", 404, thingName=missing)
        self.assertClientError(self.iot.list_thing_principals_v2, "ResourceNotFoundException", 404, thingName=missing)

    def test_unknown_certificate_is_resource_not_found(self):
        thing = self.thing()
        missing = fk.arn("cert", "d" * 64)
        self.assertClientError(self.iot.attach_thing_principal, "ResourceNotFoundException", 404,
                               thingName=thing, principal=missing)
        # ListPrincipalThings(V2) declare ResourceNotFoundException (model).
        self.assertClientError(self.iot.list_principal_things, "ResourceNotFoundException", 404, principal=missing)
        self.assertClientError(self.iot.list_principal_things_v2, "ResourceNotFoundException", 404, principal=missing)
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [])

    def test_deleted_certificate_is_gone_from_principal_lists(self):
        thing, c = self.thing(), self.cert(active=False)
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.iot.detach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.iot.delete_certificate(certificateId=c["certificateId"])
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [])
        self.assertClientError(self.iot.list_principal_things, "ResourceNotFoundException", 404,
                               principal=c["certificateArn"])


class V2Tests(PrincipalTestCase):

    def test_default_attachment_is_non_exclusive(self):
        # ThingPrincipalObject.thingPrincipalType: "The value defaults to NON_EXCLUSIVE_THING" (model).
        thing, c = self.thing(), self.cert()
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.assertEqual(self.v2_principals(thing), {c["certificateArn"]: "NON_EXCLUSIVE_THING"})
        self.assertEqual(self.v2_things(c["certificateArn"]), {thing: "NON_EXCLUSIVE_THING"})

    def test_filter_by_thing_principal_type(self):
        thing = self.thing()
        exclusive, shared = self.cert(), self.cert()
        self.iot.attach_thing_principal(thingName=thing, principal=exclusive["certificateArn"],
                                        thingPrincipalType="EXCLUSIVE_THING")
        self.iot.attach_thing_principal(thingName=thing, principal=shared["certificateArn"],
                                        thingPrincipalType="NON_EXCLUSIVE_THING")
        # ListThingPrincipalsV2 ?thingPrincipalType filters; without it both kinds are listed (model).
        self.assertEqual(self.v2_principals(thing), {exclusive["certificateArn"]: "EXCLUSIVE_THING",
                                                     shared["certificateArn"]: "NON_EXCLUSIVE_THING"})
        self.assertEqual(self.v2_principals(thing, thingPrincipalType="EXCLUSIVE_THING"),
                         {exclusive["certificateArn"]: "EXCLUSIVE_THING"})
        self.assertEqual(self.v2_principals(thing, thingPrincipalType="NON_EXCLUSIVE_THING"),
                         {shared["certificateArn"]: "NON_EXCLUSIVE_THING"})
        self.assertEqual(self.v2_things(exclusive["certificateArn"], thingPrincipalType="EXCLUSIVE_THING"),
                         {thing: "EXCLUSIVE_THING"})
        self.assertEqual(self.v2_things(exclusive["certificateArn"], thingPrincipalType="NON_EXCLUSIVE_THING"), {})
        # V1 lists every principal regardless of type.
        self.assertEqual(sorted(self.iot.list_thing_principals(thingName=thing)["principals"]),
                         sorted([exclusive["certificateArn"], shared["certificateArn"]]))

    def test_exclusive_certificate_cannot_join_a_second_thing(self):
        # EXCLUSIVE_THING: "The thing will be the only thing that's attached to the principal" (model);
        # developerguide attach-thing-principal: "this certificate cannot be associated with any other
        # things". The error code is not published; AttachThingPrincipal declares no conflict error,
        # so InvalidRequestException (400) is the model's only fit.
        first, second = self.thing("a"), self.thing("b")
        c = self.cert()
        self.iot.attach_thing_principal(thingName=first, principal=c["certificateArn"],
                                        thingPrincipalType="EXCLUSIVE_THING")
        for kind in ("EXCLUSIVE_THING", "NON_EXCLUSIVE_THING"):
            with self.subTest(kind=kind):
                self.assertClientError(self.iot.attach_thing_principal, "InvalidRequestException", 400,
                                       thingName=second, principal=c["certificateArn"], thingPrincipalType=kind)
        self.assertEqual(self.iot.list_thing_principals(thingName=second)["principals"], [])
        self.assertEqual(self.iot.list_principal_things(principal=c["certificateArn"])["things"], [first])
        # Once detached, the certificate may go elsewhere.
        self.iot.detach_thing_principal(thingName=first, principal=c["certificateArn"])
        self.iot.attach_thing_principal(thingName=second, principal=c["certificateArn"],
                                        thingPrincipalType="EXCLUSIVE_THING")
        self.assertEqual(self.v2_things(c["certificateArn"]), {second: "EXCLUSIVE_THING"})

    def test_exclusive_attach_of_a_shared_certificate_is_invalid_request(self):
        # A certificate already on another thing cannot become that thing's exclusive principal.
        first, second = self.thing("a"), self.thing("b")
        c = self.cert()
        self.iot.attach_thing_principal(thingName=first, principal=c["certificateArn"])
        self.assertClientError(self.iot.attach_thing_principal, "InvalidRequestException", 400,
                               thingName=second, principal=c["certificateArn"], thingPrincipalType="EXCLUSIVE_THING")
        self.assertEqual(self.v2_things(c["certificateArn"]), {first: "NON_EXCLUSIVE_THING"})

    def test_unknown_principal_type_is_invalid_request(self):
        thing, c = self.thing(), self.cert()
        self.assertClientError(self.iot.attach_thing_principal, "InvalidRequestException", 400,
                               thingName=thing, principal=c["certificateArn"], thingPrincipalType="SOMETIMES")
        self.assertClientError(self.iot.list_thing_principals_v2, "InvalidRequestException", 400,
                               thingName=thing, thingPrincipalType="SOMETIMES")

    def test_v2_pagination(self):
        thing = self.thing()
        arns = [self.cert()["certificateArn"] for _ in range(3)]
        for a in arns:
            self.iot.attach_thing_principal(thingName=thing, principal=a)
        first = self.iot.list_thing_principals_v2(thingName=thing, maxResults=2)
        self.assertEqual(len(first["thingPrincipalObjects"]), 2)
        self.assertTrue(first.get("nextToken"))
        listed = self.all_pages("list_thing_principals_v2", "thingPrincipalObjects", thingName=thing,
                                PaginationConfig={"PageSize": 1})
        self.assertEqual(sorted(o["principal"] for o in listed), sorted(arns))


class DeleteThingWithPrincipalTests(PrincipalTestCase):

    def test_delete_thing_with_a_principal_is_invalid_request(self):
        # AWS answers InvalidRequestException "Cannot delete. Thing <name> is still attached to one or
        # more principals" (CGI-FR/IoT-Hub-Portal#2147, rebuy-de/aws-nuke#374; moto's
        # test_delete_thing_with_certificate_validation asserts the same text).
        thing, c = self.thing(), self.cert()
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        e = self.assertClientError(self.iot.delete_thing, "InvalidRequestException", 400, thingName=thing)
        self.assertEqual(e.response["Error"]["Message"],
                         f"Cannot delete. Thing {thing} is still attached to one or more principals")
        self.assertEqual(self.iot.describe_thing(thingName=thing)["thingName"], thing)
        self.iot.detach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.iot.delete_thing(thingName=thing)
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=thing)
        # The certificate outlives the thing (moto's test: "Certificate still exists").
        self.assertEqual(self.iot.describe_certificate(certificateId=c["certificateId"])["certificateDescription"]["status"], "ACTIVE")

    def test_revoked_principal_still_blocks_delete(self):
        thing, c = self.thing(), self.cert()
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.iot.update_certificate(certificateId=c["certificateId"], newStatus="REVOKED")
        self.assertClientError(self.iot.delete_thing, "InvalidRequestException", 400, thingName=thing)


if __name__ == "__main__":
    unittest.main()
