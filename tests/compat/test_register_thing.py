"""RegisterThing: the seed's template, template errors with their JSON paths, all-or-nothing
application, PolicyDocument and CertificateSigningRequest resources, OverrideSettings, intrinsics and
Conditions (boto3)."""

import json
import re
import unittest

from botocore.exceptions import ClientError

from compat_base import CompatTestCase
import fleetkey_server as fk
from test_certificates import TempDir, certificate_id_of, fetch_ca_pem, make_csr, public_key_of_certificate, \
    public_key_of_private, subject_of, verify_chain

# Names fixed by the seed's template.
SEED_TYPE, SEED_GROUP, SEED_POLICY = "NewDevice", "NewDevices", "DefaultNewDevicePolicy"
SEED_POLICY_DOCUMENT = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": "arn:aws:iot:eu-west-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": "arn:aws:iot:eu-west-1:000000000000:topic/devices/${iot:Connection.Thing.ThingName}/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": "arn:aws:iot:eu-west-1:000000000000:topicfilter/devices/${iot:Connection.Thing.ThingName}/*"},
    ],
})
SIMPLE_POLICY_DOCUMENT = {"Version": "2012-10-17",
                          "Statement": [{"Effect": "Allow", "Action": ["iot:Publish"],
                                         "Resource": ["arn:aws:iot:eu-west-1:000000000000:topic/foo/bar"]}]}

# RegisterThing declares ResourceRegistrationFailureException (400) for resources it cannot make;
# AWS answers it with "Thing type not found" for a template naming a missing thing type
# (yilmaznaslan/aws-iot-core-registering-things-in-bulk#3).
REG_FAIL = ("ResourceRegistrationFailureException", 400)


def ignore_exists(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise


class RegisterThingTestCase(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Seed README: "Make sure the NewDevice thing type, the group and the policy exist beforehand."
        ignore_exists(cls.iot.create_thing_type, thingTypeName=SEED_TYPE)
        ignore_exists(cls.iot.create_thing_group, thingGroupName=SEED_GROUP)
        ignore_exists(cls.iot.create_policy, policyName=SEED_POLICY, policyDocument=SEED_POLICY_DOCUMENT)

    def setUp(self):
        super().setUp()
        self.tmp = TempDir()
        self.addCleanup(self.tmp.cleanup)

    def cert(self, active: bool = True) -> dict:
        return self.iot.create_keys_and_certificate(setAsActive=active)

    def register(self, template, parameters: dict | None = None, client=None) -> dict:
        body = template if isinstance(template, str) else json.dumps(template)
        kwargs = {"templateBody": body}
        if parameters is not None:
            kwargs["parameters"] = parameters
        return (client or self.iot).register_thing(**kwargs)

    def assertThingMissing(self, thing: str):
        self.assertClientError(self.iot.describe_thing, "ResourceNotFoundException", 404, thingName=thing)

    def assertCertificateUntouched(self, cert: dict, status: str = "ACTIVE"):
        self.assertEqual(self.iot.list_principal_things(principal=cert["certificateArn"])["things"], [])
        self.assertEqual(self.iot.list_attached_policies(target=cert["certificateArn"])["policies"], [])
        self.assertEqual(self.iot.describe_certificate(certificateId=cert["certificateId"])
                         ["certificateDescription"]["status"], status)

    def assertInvalidTemplate(self, template, parameters=None, paths=(), client=None) -> str:
        """InvalidRequestException whose message names every JSON path in `paths` (issue 3)."""
        e = self.assertClientError(self.register, "InvalidRequestException", 400, template, parameters, client)
        message = e.response["Error"]["Message"]
        for p in paths:
            self.assertIn(p, message, f"the message should name {p}")
        return message


def thing_template(thing_properties: dict, with_certificate: bool = True, policy: dict | None = None,
                   overrides: dict | None = None, parameters=("ThingName", "CertificateId")) -> dict:
    thing = {"Type": "AWS::IoT::Thing", "Properties": thing_properties}
    if overrides:
        thing["OverrideSettings"] = overrides
    t = {"Parameters": {p: {"Type": "String"} for p in parameters}, "Resources": {"thing": thing}}
    if with_certificate:
        t["Resources"]["certificate"] = {"Type": "AWS::IoT::Certificate",
                                         "Properties": {"CertificateId": {"Ref": "CertificateId"}}}
    if policy is not None:
        t["Resources"]["policy"] = {"Type": "AWS::IoT::Policy", "Properties": policy}
    return t


class SeedTemplateTests(RegisterThingTestCase):

    def seed_parameters(self, thing: str, cert: dict) -> dict:
        # register-thing.js: parameters ThingName = SerialNumber = serial, CertificateId = the new certificate.
        return {"ThingName": thing, "SerialNumber": thing, "CertificateId": cert["certificateId"]}

    def check_registered(self, thing: str, cert: dict, r: dict):
        # resourceArns is keyed by the template's logical names (developerguide
        # single-thing-provisioning: {"thing": ..., "certificate": ..., "PolicyLogicalName": ...}).
        self.assertEqual(r["resourceArns"], {"thing": fk.arn("thing", thing),
                                             "certificate": cert["certificateArn"],
                                             "policy": fk.arn("policy", SEED_POLICY)})
        self.assertEqual(certificate_id_of(r["certificatePem"]), cert["certificateId"])
        d = self.iot.describe_thing(thingName=thing)
        self.assertEqual(d["thingTypeName"], SEED_TYPE)
        self.assertEqual(d["attributes"], {"serialNumber": thing})
        groups = self.iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]
        self.assertEqual([g["groupName"] for g in groups], [SEED_GROUP])
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [cert["certificateArn"]])
        self.assertIn(SEED_POLICY, [p["policyName"] for p in
                                    self.iot.list_attached_policies(target=cert["certificateArn"])["policies"]])
        self.assertEqual(self.iot.describe_certificate(certificateId=cert["certificateId"])
                         ["certificateDescription"]["status"], "ACTIVE")
        self.assertIn(thing, self.all_pages("list_things_in_thing_group", "things", thingGroupName=SEED_GROUP))

    def test_seed_template_as_the_seed_sends_it(self):
        # register-thing.js sends JSON.stringify(require('./register-thing-template-body.json')).
        thing, cert = self.name("sn"), self.cert()
        template = json.loads(fk.seed_template())
        r = self.register(json.dumps(template, separators=(",", ":")), self.seed_parameters(thing, cert))
        self.check_registered(thing, cert, r)

    def test_seed_template_file_text_verbatim(self):
        thing, cert = self.name("sn"), self.cert()
        r = self.register(fk.seed_template(), self.seed_parameters(thing, cert))
        self.check_registered(thing, cert, r)

    def test_registering_again_with_the_same_parameters_changes_nothing(self):
        # A repeat of the same registration finds the thing as the template describes it.
        thing, cert = self.name("sn"), self.cert()
        self.register(fk.seed_template(), self.seed_parameters(thing, cert))
        r = self.register(fk.seed_template(), self.seed_parameters(thing, cert))
        self.check_registered(thing, cert, r)
        self.assertEqual(self.iot.describe_thing(thingName=thing)["version"], 1)

    def test_missing_parameter_is_invalid_request_and_makes_nothing(self):
        # Every parameter the seed's template Refs must be passed (it declares no Default).
        thing, cert = self.name("sn"), self.cert()
        message = self.assertInvalidTemplate(fk.seed_template(),
                                             {"ThingName": thing, "CertificateId": cert["certificateId"]},
                                             paths=["Resources.thing.Properties.AttributePayload.serialNumber"])
        self.assertIn("SerialNumber", message)
        self.assertThingMissing(thing)
        self.assertCertificateUntouched(cert)

    def test_template_attachment_is_non_exclusive(self):
        # The seed's template does not ask for exclusivity: the attachment is the default kind,
        # NON_EXCLUSIVE_THING (model: ThingPrincipalObject.thingPrincipalType default).
        thing, cert = self.name("sn"), self.cert()
        self.register(fk.seed_template(), self.seed_parameters(thing, cert))
        objs = self.iot.list_thing_principals_v2(thingName=thing)["thingPrincipalObjects"]
        self.assertEqual(objs, [{"principal": cert["certificateArn"], "thingPrincipalType": "NON_EXCLUSIVE_THING"}])


class TemplateErrorTests(RegisterThingTestCase):
    # Issue 3: "A template is validated before anything is written, and every problem is reported
    # with its JSON path, not only the first." RegisterThing declares InvalidRequestException (model).

    def test_unknown_resource_type_names_its_path(self):
        t = thing_template({"ThingName": {"Ref": "ThingName"}})
        t["Resources"]["thing"]["Type"] = "AWS::IoT::Thingy"
        self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64},
                                   paths=["Resources.thing.Type", "AWS::IoT::Thingy"])

    def test_every_problem_is_reported(self):
        thing = self.name("t")
        t = thing_template({"ThingName": {"Ref": "Undeclared"}, "AttributePayload": {"k": {"Fn::Nope": "x"}}})
        t["Resources"]["extra"] = {"Type": "AWS::IoT::Gadget", "Properties": {}}
        message = self.assertInvalidTemplate(t, {"ThingName": thing, "CertificateId": "a" * 64},
                                             paths=["Resources.thing.Properties.ThingName",
                                                    "Resources.thing.Properties.AttributePayload.k",
                                                    "Resources.extra.Type"])
        self.assertIn("Undeclared", message)
        self.assertThingMissing(thing)

    def test_body_that_is_not_json(self):
        self.assertInvalidTemplate("{\"Resources\": ", {})

    def test_template_without_resources(self):
        self.assertInvalidTemplate({"Parameters": {}}, {}, paths=["Resources"])

    def test_empty_body(self):
        # TemplateBody min length 0 (model), so botocore sends it; an empty template describes nothing.
        self.assertInvalidTemplate("", {})

    def test_bad_override_action_names_its_path(self):
        t = thing_template({"ThingName": {"Ref": "ThingName"}}, overrides={"AttributePayload": "SOMETIMES"})
        self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64},
                                   paths=["Resources.thing.OverrideSettings.AttributePayload"])

    def test_merge_is_only_for_attributes_and_groups(self):
        # provision-template: MERGE is "Valid only for the ThingGroups and AttributePayload properties".
        t = thing_template({"ThingName": {"Ref": "ThingName"}}, overrides={"ThingTypeName": "MERGE"})
        self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64},
                                   paths=["Resources.thing.OverrideSettings.ThingTypeName"])

    def test_policy_with_name_and_document_is_invalid(self):
        # provision-template: "PolicyName or PolicyDocument, but not both, must be specified".
        t = thing_template({"ThingName": {"Ref": "ThingName"}},
                           policy={"PolicyName": SEED_POLICY, "PolicyDocument": json.dumps(SIMPLE_POLICY_DOCUMENT)})
        self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64},
                                   paths=["Resources.policy.Properties"])

    def test_certificate_with_two_sources_is_invalid(self):
        # provision-template: "When you declare a certificate in a template, use only one of these methods."
        csr, _ = make_csr(self.tmp)
        t = thing_template({"ThingName": {"Ref": "ThingName"}})
        t["Resources"]["certificate"]["Properties"]["CertificateSigningRequest"] = csr
        self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64},
                                   paths=["Resources.certificate.Properties"])

    def test_billing_group_is_refused_clearly(self):
        # Issue 3: "BillingGroup refused with a clear error until billing groups exist".
        t = thing_template({"ThingName": {"Ref": "ThingName"}, "BillingGroup": "bg"})
        self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64},
                                   paths=["Resources.thing.Properties.BillingGroup"])

    def test_template_over_10240_characters(self):
        # TemplateBody max length 10240 (model; fleet provisioning template quota 10 KiB). Trailing
        # whitespace keeps the JSON valid, so only the length is wrong.
        body = json.dumps(thing_template({"ThingName": {"Ref": "ThingName"}}))
        body = body + " " * (10241 - len(body))
        thing = self.name("t")
        self.assertInvalidTemplate(body, {"ThingName": thing, "CertificateId": "a" * 64},
                                   client=fk.client(validate=False))
        self.assertThingMissing(thing)

    def test_template_of_exactly_10240_characters_is_read(self):
        thing, cert = self.name("t"), self.cert()
        body = json.dumps(thing_template({"ThingName": {"Ref": "ThingName"}}))
        body = body + " " * (10240 - len(body))
        self.assertEqual(len(body), 10240)
        r = self.register(body, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        self.assertEqual(r["resourceArns"]["thing"], fk.arn("thing", thing))

    def test_parameter_value_over_4096_characters(self):
        # Parameters map values: max 4096 (model).
        t = thing_template({"ThingName": {"Ref": "ThingName"}}, parameters=("ThingName", "CertificateId", "Big"))
        self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64, "Big": "b" * 4097},
                                   client=fk.client(validate=False))


class AllOrNothingTests(RegisterThingTestCase):
    # Issue 3 / design §3: "Provisioning is a transaction: everything a template makes ... is committed
    # together or not at all."

    def test_unknown_thing_group_leaves_nothing(self):
        thing, cert = self.name("t"), self.cert()
        t = thing_template({"ThingName": {"Ref": "ThingName"}, "ThingGroups": [SEED_GROUP, self.name("nogroup")]},
                           policy={"PolicyName": SEED_POLICY})
        self.assertClientError(self.register, *REG_FAIL, t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        self.assertThingMissing(thing)
        self.assertCertificateUntouched(cert)
        self.assertNotIn(thing, self.all_pages("list_things_in_thing_group", "things", thingGroupName=SEED_GROUP))

    def test_unknown_thing_type_leaves_nothing(self):
        # AWS: ResourceRegistrationFailureException "Thing type not found" (see REG_FAIL).
        thing, cert = self.name("t"), self.cert()
        t = thing_template({"ThingName": {"Ref": "ThingName"}, "ThingTypeName": self.name("notype")},
                           policy={"PolicyName": SEED_POLICY})
        self.assertClientError(self.register, *REG_FAIL, t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        self.assertThingMissing(thing)
        self.assertCertificateUntouched(cert)

    def test_missing_certificate_leaves_nothing(self):
        thing = self.name("t")
        t = thing_template({"ThingName": {"Ref": "ThingName"}, "ThingGroups": [SEED_GROUP]},
                           policy={"PolicyName": SEED_POLICY})
        self.assertClientError(self.register, *REG_FAIL, t, {"ThingName": thing, "CertificateId": "0" * 64})
        self.assertThingMissing(thing)

    def test_unknown_policy_leaves_nothing(self):
        # provision-template: with PolicyName, "the policy must already be created".
        thing, cert = self.name("t"), self.cert()
        t = thing_template({"ThingName": {"Ref": "ThingName"}}, policy={"PolicyName": self.name("nopolicy")})
        self.assertClientError(self.register, *REG_FAIL, t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        self.assertThingMissing(thing)
        self.assertCertificateUntouched(cert)

    def test_failure_leaves_an_existing_thing_as_it_was(self):
        # The thing's attributes would be replaced, but the policy does not exist: nothing changes.
        thing, cert = self.name("t"), self.cert()
        self.iot.create_thing(thingName=thing, attributePayload={"attributes": {"a": "1"}})
        t = thing_template({"ThingName": {"Ref": "ThingName"}, "AttributePayload": {"a": "2"}},
                           overrides={"AttributePayload": "REPLACE"}, policy={"PolicyName": self.name("nopolicy")})
        self.assertClientError(self.register, *REG_FAIL, t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        d = self.iot.describe_thing(thingName=thing)
        self.assertEqual((d["attributes"], d["version"]), ({"a": "1"}, 1))
        self.assertCertificateUntouched(cert)

    def test_unknown_group_with_replace_on_an_existing_thing_changes_nothing(self):
        thing, cert = self.name("t"), self.cert()
        self.iot.create_thing(thingName=thing, attributePayload={"attributes": {"a": "1"}})
        t = thing_template({"ThingName": {"Ref": "ThingName"}, "AttributePayload": {"a": "2"},
                            "ThingGroups": [self.name("nogroup")]},
                           overrides={"AttributePayload": "REPLACE", "ThingGroups": "REPLACE"})
        self.assertClientError(self.register, *REG_FAIL, t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        d = self.iot.describe_thing(thingName=thing)
        self.assertEqual((d["attributes"], d["version"]), ({"a": "1"}, 1))
        self.assertEqual(self.iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"], [])
        self.assertCertificateUntouched(cert)


class PolicyResourceTests(RegisterThingTestCase):

    def test_unnamed_policy_document_is_created_under_a_hash_name(self):
        # provision-template: PolicyName "Defaults to a hash of the policy document"; PolicyDocument is
        # "A JSON object specified as an escaped string" (AWS's example name is 40 hex digits).
        doc = dict(SIMPLE_POLICY_DOCUMENT, Statement=[dict(SIMPLE_POLICY_DOCUMENT["Statement"][0],
                                                           Resource=[f"arn:aws:iot:eu-west-1:000000000000:topic/{self.prefix}"])])
        thing, cert = self.name("t"), self.cert()
        t = thing_template({"ThingName": {"Ref": "ThingName"}}, policy={"PolicyDocument": json.dumps(doc)})
        r = self.register(t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        arn = r["resourceArns"]["policy"]
        name = arn.rsplit("/", 1)[1]
        self.assertEqual(arn, fk.arn("policy", name))
        self.assertRegex(name, r"^[0-9A-Fa-f]{40,64}$")
        self.assertEqual(json.loads(self.iot.get_policy(policyName=name)["policyDocument"]), doc)
        self.assertEqual([p["policyName"] for p in self.iot.list_attached_policies(target=cert["certificateArn"])["policies"]], [name])
        # The same document names the same policy: a second device reuses it.
        thing2, cert2 = self.name("t2"), self.cert()
        r2 = self.register(t, {"ThingName": thing2, "CertificateId": cert2["certificateId"]})
        self.assertEqual(r2["resourceArns"]["policy"], arn)
        self.assertEqual(sorted(self.all_pages("list_targets_for_policy", "targets", policyName=name)),
                         sorted([cert["certificateArn"], cert2["certificateArn"]]))

    def test_policy_document_as_an_object(self):
        # The fleet provisioning example passes PolicyDocument as a JSON object (provision-template).
        doc = dict(SIMPLE_POLICY_DOCUMENT, Statement=[dict(SIMPLE_POLICY_DOCUMENT["Statement"][0],
                                                           Resource=[f"arn:aws:iot:eu-west-1:000000000000:topic/{self.prefix}/obj"])])
        thing, cert = self.name("t"), self.cert()
        t = thing_template({"ThingName": {"Ref": "ThingName"}}, policy={"PolicyDocument": doc})
        r = self.register(t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        name = r["resourceArns"]["policy"].rsplit("/", 1)[1]
        self.assertEqual(json.loads(self.iot.get_policy(policyName=name)["policyDocument"]), doc)

    def test_policy_document_that_is_not_a_policy_makes_nothing(self):
        thing, cert = self.name("t"), self.cert()
        t = thing_template({"ThingName": {"Ref": "ThingName"}},
                           policy={"PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps"}]})})
        # The template is well-formed but its policy is not. RegisterThing's model declares
        # InvalidRequestException and ResourceRegistrationFailureException; MalformedPolicyException
        # (400, the IoT model's error for a bad policy document) names the problem best and every SDK
        # maps it, so any of the three is accepted.
        self.assertClientErrorIn(self.register, {"InvalidRequestException": 400, "ResourceRegistrationFailureException": 400,
                                                 "MalformedPolicyException": 400},
                                 t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        self.assertThingMissing(thing)
        self.assertCertificateUntouched(cert)


class CertificateResourceTests(RegisterThingTestCase):

    def csr_template(self, status: str | None = None) -> dict:
        t = thing_template({"ThingName": {"Ref": "ThingName"}}, with_certificate=False,
                           parameters=("ThingName", "CSR"))
        props = {"CertificateSigningRequest": {"Ref": "CSR"}}
        if status:
            props["Status"] = status
        t["Resources"]["certificate"] = {"Type": "AWS::IoT::Certificate", "Properties": props}
        return t

    def test_certificate_signing_request(self):
        # provision-template: a certificate may be given as a CSR; the new certificate's PEM is the
        # certificatePem of the answer (model: RegisterThingResponse.certificatePem).
        thing = self.name("t")
        csr, key = make_csr(self.tmp, f"/CN={thing}", "rsa:2048")
        r = self.register(self.csr_template(), {"ThingName": thing, "CSR": csr})
        pem = r["certificatePem"]
        cid = certificate_id_of(pem)
        self.assertEqual(r["resourceArns"], {"thing": fk.arn("thing", thing), "certificate": fk.arn("cert", cid)})
        self.assertEqual(subject_of(self.tmp, pem), f"CN={thing}")
        self.assertEqual(public_key_of_certificate(self.tmp, pem), public_key_of_private(self.tmp, key))
        v = verify_chain(self.tmp, pem, fetch_ca_pem(self.server))
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        # Status defaults to ACTIVE (provision-template).
        self.assertEqual(self.iot.describe_certificate(certificateId=cid)["certificateDescription"]["status"], "ACTIVE")
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [fk.arn("cert", cid)])

    def test_certificate_signing_request_inactive(self):
        thing = self.name("t")
        csr, _ = make_csr(self.tmp, "/CN=inactive", "ec:P-256")
        r = self.register(self.csr_template("INACTIVE"), {"ThingName": thing, "CSR": csr})
        cid = certificate_id_of(r["certificatePem"])
        self.assertEqual(self.iot.describe_certificate(certificateId=cid)["certificateDescription"]["status"], "INACTIVE")

    def test_weak_csr_makes_nothing(self):
        thing = self.name("t")
        csr, _ = make_csr(self.tmp, "/CN=weak", "rsa:1024")
        self.assertClientErrorIn(self.register, {"InvalidRequestException": 400, "ResourceRegistrationFailureException": 400},
                                 self.csr_template(), {"ThingName": thing, "CSR": csr})
        self.assertThingMissing(thing)

    def test_status_on_existing_certificate_with_replace(self):
        # provision-template: OverrideSettings for a certificate resource may name Status.
        thing, cert = self.name("t"), self.cert(active=True)
        t = thing_template({"ThingName": {"Ref": "ThingName"}})
        t["Resources"]["certificate"]["Properties"]["Status"] = "INACTIVE"
        t["Resources"]["certificate"]["OverrideSettings"] = {"Status": "REPLACE"}
        self.register(t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        self.assertEqual(self.iot.describe_certificate(certificateId=cert["certificateId"])
                         ["certificateDescription"]["status"], "INACTIVE")


class OverrideSettingsTests(RegisterThingTestCase):
    # provision-template "Override Settings": DO_NOTHING, REPLACE, FAIL, MERGE for a thing's
    # AttributePayload, ThingTypeName and ThingGroups.

    def existing(self) -> tuple[str, dict]:
        thing = self.name("t")
        self.iot.create_thing(thingName=thing, attributePayload={"attributes": {"a": "1", "b": "2"}})
        return thing, self.cert()

    def apply(self, thing: str, cert: dict, action: str):
        t = thing_template({"ThingName": {"Ref": "ThingName"}, "AttributePayload": {"b": "20", "c": "3"}},
                           overrides={"AttributePayload": action})
        return self.register(t, {"ThingName": thing, "CertificateId": cert["certificateId"]})

    def test_merge(self):
        thing, cert = self.existing()
        self.apply(thing, cert, "MERGE")
        self.assertEqual(self.iot.describe_thing(thingName=thing)["attributes"], {"a": "1", "b": "20", "c": "3"})
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [cert["certificateArn"]])

    def test_replace(self):
        thing, cert = self.existing()
        self.apply(thing, cert, "REPLACE")
        self.assertEqual(self.iot.describe_thing(thingName=thing)["attributes"], {"b": "20", "c": "3"})

    def test_do_nothing(self):
        thing, cert = self.existing()
        r = self.apply(thing, cert, "DO_NOTHING")
        self.assertEqual(r["resourceArns"]["thing"], fk.arn("thing", thing))
        d = self.iot.describe_thing(thingName=thing)
        self.assertEqual((d["attributes"], d["version"]), ({"a": "1", "b": "2"}, 1))
        # The other resources are still provisioned.
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [cert["certificateArn"]])

    def test_fail(self):
        # provision-template: FAIL "Cause[s] the request to fail with a ResourceConflictsException" — a
        # name the service model does not have; RegisterThing declares ResourceRegistrationFailureException
        # (400) and ConflictingResourceUpdateException (409), so one of those is expected.
        thing, cert = self.existing()
        self.assertClientErrorIn(self.apply, {"ResourceRegistrationFailureException": 400,
                                              "ConflictingResourceUpdateException": 409},
                                 thing, cert, "FAIL")
        d = self.iot.describe_thing(thingName=thing)
        self.assertEqual((d["attributes"], d["version"]), ({"a": "1", "b": "2"}, 1))
        self.assertCertificateUntouched(cert)

    def test_fail_on_a_new_thing_creates_it(self):
        # FAIL applies to "a resource that already exists"; a new thing is simply created.
        thing, cert = self.name("t"), self.cert()
        self.apply(thing, cert, "FAIL")
        self.assertEqual(self.iot.describe_thing(thingName=thing)["attributes"], {"b": "20", "c": "3"})

    def test_thing_groups_merge_and_replace(self):
        g1, g2 = self.create_group(self.name("g1")), self.create_group(self.name("g2"))
        thing, cert = self.name("t"), self.cert()
        self.iot.create_thing(thingName=thing)
        self.iot.add_thing_to_thing_group(thingGroupName=g1["thingGroupName"], thingName=thing)
        for action, expected in (("MERGE", {g1["thingGroupName"], g2["thingGroupName"]}),
                                 ("REPLACE", {g2["thingGroupName"]})):
            with self.subTest(action=action):
                t = thing_template({"ThingName": {"Ref": "ThingName"}, "ThingGroups": [g2["thingGroupName"]]},
                                   overrides={"ThingGroups": action})
                self.register(t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
                groups = self.iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]
                self.assertEqual({g["groupName"] for g in groups}, expected)


class IntrinsicFunctionTests(RegisterThingTestCase):

    def test_ref_default_join_sub_select_split_find_in_map(self):
        # provision-template "Intrinsic Functions": Fn::Join, Fn::Select, Fn::FindInMap, Fn::Split,
        # Fn::Sub; Parameters "Default" is used when the parameter is not passed.
        thing_type = self.name("type")
        self.create_type(thing_type)
        serial, cert = self.prefix.replace("-", ""), self.cert()
        t = {
            "Parameters": {"Serial": {"Type": "String"}, "Site": {"Type": "String", "Default": "ams"},
                           "Csv": {"Type": "String"}, "CertificateId": {"Type": "String"}},
            "Mappings": {"SiteTable": {"ams": {"Region": "eu"}, "nyc": {"Region": "us"}}},
            "Resources": {
                "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                    "ThingName": {"Fn::Join": ["-", ["dev", {"Ref": "Serial"}]]},
                    "ThingTypeName": thing_type,
                    "AttributePayload": {
                        "site": {"Ref": "Site"},
                        "region": {"Fn::FindInMap": ["SiteTable", {"Ref": "Site"}, "Region"]},
                        "second": {"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "Csv"}]}]},
                        "label": {"Fn::Sub": "${Site}/${Serial}"},
                    }}},
                "certificate": {"Type": "AWS::IoT::Certificate",
                                "Properties": {"CertificateId": {"Ref": "CertificateId"}}},
            },
        }
        r = self.register(t, {"Serial": serial, "Csv": "a,b,c", "CertificateId": cert["certificateId"]})
        thing = f"dev-{serial}"
        self.assertEqual(r["resourceArns"]["thing"], fk.arn("thing", thing))
        d = self.iot.describe_thing(thingName=thing)
        self.assertEqual(d["attributes"], {"site": "ams", "region": "eu", "second": "b", "label": f"ams/{serial}"})
        # With the parameter passed, the mapping follows it.
        serial2, cert2 = serial + "x", self.cert()
        self.register(t, {"Serial": serial2, "Site": "nyc", "Csv": "x,y", "CertificateId": cert2["certificateId"]})
        self.assertEqual(self.iot.describe_thing(thingName=f"dev-{serial2}")["attributes"],
                         {"site": "nyc", "region": "us", "second": "y", "label": f"nyc/{serial2}"})

    def test_select_out_of_bounds_is_an_error(self):
        # provision-template: Fn::Select "does not check ... if the index is out of bounds of the array.
        # Both conditions result in a provisioning error".
        thing, cert = self.name("t"), self.cert()
        t = thing_template({"ThingName": {"Ref": "ThingName"},
                            "AttributePayload": {"x": {"Fn::Select": [5, {"Fn::Split": [",", "a,b"]}]}}})
        self.assertClientErrorIn(self.register, {"InvalidRequestException": 400, "ResourceRegistrationFailureException": 400},
                                 t, {"ThingName": thing, "CertificateId": cert["certificateId"]})
        self.assertThingMissing(thing)

    def test_conditions_with_fn_if_equals_not_and_or(self):
        # Conditions / Fn::If / Fn::Equals / Fn::Not / Fn::And / Fn::Or are not in AWS's IoT template
        # docs (aws-iot-facts §3) but are CloudFormation's syntax, which issue 3 asks Fleetkey to accept.
        thing_type = self.name("type")
        self.create_type(thing_type)
        t = {
            "Parameters": {"ThingName": {"Type": "String"}, "Env": {"Type": "String"},
                           "CertificateId": {"Type": "String"}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "IsStaging": {"Fn::Equals": [{"Ref": "Env"}, "staging"]},
                "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
                "Monitored": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsStaging"}]},
                "StagingOnly": {"Fn::And": [{"Condition": "IsNotProd"}, {"Condition": "IsStaging"}]},
            },
            "Resources": {
                "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                    "ThingName": {"Ref": "ThingName"},
                    "ThingTypeName": thing_type,
                    "AttributePayload": {
                        "tier": {"Fn::If": ["IsProd", "gold", "silver"]},
                        "monitored": {"Fn::If": ["Monitored", "yes", "no"]},
                        "staging": {"Fn::If": ["StagingOnly", "yes", "no"]},
                    }}},
                "certificate": {"Type": "AWS::IoT::Certificate",
                                "Properties": {"CertificateId": {"Ref": "CertificateId"}}},
                "policy": {"Type": "AWS::IoT::Policy", "Condition": "IsProd",
                           "Properties": {"PolicyName": SEED_POLICY}},
            },
        }
        expected = {"prod": ({"tier": "gold", "monitored": "yes", "staging": "no"}, True),
                    "staging": ({"tier": "silver", "monitored": "yes", "staging": "yes"}, False),
                    "dev": ({"tier": "silver", "monitored": "no", "staging": "no"}, False)}
        for env, (attributes, has_policy) in expected.items():
            with self.subTest(env=env):
                thing, cert = self.name(env), self.cert()
                r = self.register(t, {"ThingName": thing, "Env": env, "CertificateId": cert["certificateId"]})
                self.assertEqual(self.iot.describe_thing(thingName=thing)["attributes"], attributes)
                self.assertEqual("policy" in r["resourceArns"], has_policy)
                attached = [p["policyName"] for p in self.iot.list_attached_policies(target=cert["certificateArn"])["policies"]]
                self.assertEqual(attached, [SEED_POLICY] if has_policy else [])

    def test_condition_cycle_is_invalid(self):
        t = thing_template({"ThingName": {"Ref": "ThingName"}})
        t["Conditions"] = {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}}
        t["Resources"]["thing"]["Properties"]["AttributePayload"] = {"x": {"Fn::If": ["A", "1", "2"]}}
        message = self.assertInvalidTemplate(t, {"ThingName": self.name("t"), "CertificateId": "a" * 64},
                                             paths=["Conditions"])
        self.assertTrue(re.search(r"cycle|circular", message, re.I), message)


if __name__ == "__main__":
    unittest.main()
