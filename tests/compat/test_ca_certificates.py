"""CA registration (issue 9) with boto3: GetRegistrationCode, DeleteRegistrationCode,
RegisterCACertificate, DescribeCACertificate, UpdateCACertificate, ListCACertificates,
DeleteCACertificate, ListCertificatesByCA, and RegisterCertificate of device certificates signed by
a registered CA. The CAs, verification and device certificates are made with the openssl CLI.

AWS behaviour asserted here, and its source:
- Routes, members, enums (CACertificateStatus ACTIVE|INACTIVE, AutoRegistrationStatus ENABLE|DISABLE,
  CertificateMode DEFAULT|SNI_ONLY) and declared errors: botocore service model.
- DEFAULT mode needs a verification certificate whose CN is the registration code and which the CA
  signed; SNI_ONLY needs none (docs register-CA-cert, API RegisterCACertificate). A wrong CN is
  RegistrationCodeValidationException, a verification certificate the CA did not sign and a
  certificate that is not a CA are CertificateValidationException (the model's two certificate errors).
- A CA is deleted only when INACTIVE (CertificateStateException, the one state error the operation
  declares); Fleetkey also refuses while device certificates of the CA remain (moto does the same).
- RegisterCertificate of a certificate whose CA is INACTIVE: CertificateStateException (model).
- CA certificate ARN: arn:aws:iot:REGION:ACCOUNT:cacert/ID (docs security_iam_service-with-iam).
"""

from __future__ import annotations

import json
import shutil

from compat_base import CompatTestCase, tags_dict
import fleetkey_server as fk
from ca_helpers import OpenSslCa, new_dir
from test_certificates import certificate_id_of

JITP_TEMPLATE = json.dumps({
    "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"}},
    "Resources": {
        "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}},
        "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
    },
})
ROLE = f"arn:aws:iam::{fk.ACCOUNT_ID}:role/JITPRole"


class CaCertificateTests(CompatTestCase):

    def setUp(self):
        super().setUp()
        self.dir = new_dir()
        self.addCleanup(shutil.rmtree, self.dir, True)

    def new_ca(self, suffix: str = "ca") -> OpenSslCa:
        return OpenSslCa(self.dir, self.name(suffix))

    def register(self, ca: OpenSslCa, **kwargs) -> dict:
        code = self.iot.get_registration_code()["registrationCode"]
        return self.iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification(code), **kwargs)

    def cleanup_ca(self, ca_id: str) -> None:
        def delete():
            try:
                for cert in self.iot.list_certificates_by_ca(caCertificateId=ca_id)["certificates"]:
                    self.iot.update_certificate(certificateId=cert["certificateId"], newStatus="INACTIVE")
                    self.iot.delete_certificate(certificateId=cert["certificateId"], forceDelete=True)
                self.iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE")
                self.iot.delete_ca_certificate(certificateId=ca_id)
            except self.iot.exceptions.ResourceNotFoundException:
                pass
        self.addCleanup(delete)

    # ------------------------------------------------------------------ registration code

    def test_registration_code_is_stable_until_deleted(self):
        code = self.iot.get_registration_code()["registrationCode"]
        self.assertRegex(code, r"^[0-9a-f]{64}$")
        self.assertEqual(self.iot.get_registration_code()["registrationCode"], code)
        self.iot.delete_registration_code()
        self.assertClientError(self.iot.delete_registration_code, "ResourceNotFoundException", 404)
        renewed = self.iot.get_registration_code()["registrationCode"]
        self.assertNotEqual(renewed, code)

    def test_verification_certificate_made_for_a_deleted_code_is_refused(self):
        ca = self.new_ca()
        old = self.iot.get_registration_code()["registrationCode"]
        verification = ca.verification(old)
        self.iot.delete_registration_code()
        self.iot.get_registration_code()
        self.assertClientError(self.iot.register_ca_certificate, "RegistrationCodeValidationException", 400,
                               caCertificate=ca.pem, verificationCertificate=verification)

    # ------------------------------------------------------------------ register / describe

    def test_register_default_mode_then_describe(self):
        ca = self.new_ca()
        registered = self.register(ca, setAsActive=True, allowAutoRegistration=True,
                                   tags=[{"Key": "owner", "Value": "factory"}])
        ca_id = registered["certificateId"]
        self.cleanup_ca(ca_id)
        self.assertEqual(ca_id, certificate_id_of(ca.pem))
        self.assertEqual(registered["certificateArn"], fk.arn("cacert", ca_id))

        described = self.iot.describe_ca_certificate(certificateId=ca_id)
        d = described["certificateDescription"]
        self.assertEqual(d["certificateId"], ca_id)
        self.assertEqual(d["certificateArn"], fk.arn("cacert", ca_id))
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(d["autoRegistrationStatus"], "ENABLE")
        self.assertEqual(d["certificateMode"], "DEFAULT")
        self.assertEqual(d["ownedBy"], fk.ACCOUNT_ID)
        self.assertEqual(d["customerVersion"], 1)
        self.assertTrue(d["generationId"])
        self.assertEqual(certificate_id_of(d["certificatePem"]), ca_id)
        self.assertRecentDatetime(d["creationDate"], "creationDate")
        self.assertLess(d["validity"]["notBefore"], d["validity"]["notAfter"])
        self.assertNotIn("registrationConfig", described)
        self.assertEqual(tags_dict(self.iot.list_tags_for_resource(resourceArn=registered["certificateArn"])["tags"]), {"owner": "factory"})

    def test_register_defaults_inactive_and_auto_registration_disabled(self):
        ca = self.new_ca()
        ca_id = self.register(ca)["certificateId"]
        self.cleanup_ca(ca_id)
        d = self.iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]
        self.assertEqual((d["status"], d["autoRegistrationStatus"]), ("INACTIVE", "DISABLE"))

    def test_register_twice_is_resource_already_exists(self):
        ca = self.new_ca()
        ca_id = self.register(ca)["certificateId"]
        self.cleanup_ca(ca_id)
        self.assertClientError(self.register, "ResourceAlreadyExistsException", 409, ca)

    def test_register_sni_only_without_verification_certificate(self):
        ca = self.new_ca()
        registered = self.iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="SNI_ONLY", setAsActive=True)
        self.cleanup_ca(registered["certificateId"])
        d = self.iot.describe_ca_certificate(certificateId=registered["certificateId"])["certificateDescription"]
        self.assertEqual(d["certificateMode"], "SNI_ONLY")
        # Device certificates inherit the CA's mode (model: CertificateDescription.certificateMode).
        device = ca.issue(f"/CN={self.name('dev')}")
        cert_id = self.iot.register_certificate(certificatePem=device["pem"], caCertificatePem=ca.pem)["certificateId"]
        self.assertEqual(self.iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["certificateMode"], "SNI_ONLY")

    def test_register_default_mode_without_verification_certificate_is_invalid(self):
        ca = self.new_ca()
        self.assertClientError(self.iot.register_ca_certificate, "InvalidRequestException", 400, caCertificate=ca.pem)

    def test_verification_certificate_with_another_cn_is_registration_code_validation(self):
        ca = self.new_ca()
        self.iot.get_registration_code()
        wrong = ca.verification("0" * 64)
        self.assertClientError(self.iot.register_ca_certificate, "RegistrationCodeValidationException", 400,
                               caCertificate=ca.pem, verificationCertificate=wrong)

    def test_verification_certificate_signed_by_another_key_is_certificate_validation(self):
        ca = self.new_ca("ca")
        other = self.new_ca("other")
        code = self.iot.get_registration_code()["registrationCode"]
        self.assertClientError(self.iot.register_ca_certificate, "CertificateValidationException", 400,
                               caCertificate=ca.pem, verificationCertificate=other.verification(code))

    def test_certificate_that_is_not_a_ca_is_certificate_validation(self):
        not_ca = OpenSslCa(self.dir, self.name("leaf"), ca=False)
        code = self.iot.get_registration_code()["registrationCode"]
        self.assertClientError(self.iot.register_ca_certificate, "CertificateValidationException", 400,
                               caCertificate=not_ca.pem, verificationCertificate=not_ca.verification(code))

    def test_garbage_pem_is_certificate_validation(self):
        self.assertClientError(self.iot.register_ca_certificate, "CertificateValidationException", 400,
                               caCertificate="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                               certificateMode="SNI_ONLY")

    def test_registration_config_template_body_and_name(self):
        ca = self.new_ca("body")
        ca_id = self.register(ca, registrationConfig={"templateBody": JITP_TEMPLATE, "roleArn": ROLE})["certificateId"]
        self.cleanup_ca(ca_id)
        config = self.iot.describe_ca_certificate(certificateId=ca_id)["registrationConfig"]
        self.assertEqual(config, {"templateBody": JITP_TEMPLATE, "roleArn": ROLE})

        template = fk.unique("jitp")
        self.iot.create_provisioning_template(templateName=template, templateBody=JITP_TEMPLATE, provisioningRoleArn=ROLE, type="JITP", enabled=True)
        self.addCleanup(self.iot.delete_provisioning_template, templateName=template)
        named = self.new_ca("named")
        named_id = self.register(named, registrationConfig={"templateName": template})["certificateId"]
        self.cleanup_ca(named_id)
        self.assertEqual(self.iot.describe_ca_certificate(certificateId=named_id)["registrationConfig"], {"templateName": template})

        # ListCACertificates' templateName filter.
        listed = [c["certificateId"] for c in self.all_pages("list_ca_certificates", "certificates", templateName=template)]
        self.assertEqual(listed, [named_id])

    def test_registration_config_errors(self):
        ca = self.new_ca()
        self.assertClientError(self.register, "ResourceNotFoundException", 404, ca,
                               registrationConfig={"templateName": fk.unique("missing")})
        fleet = fk.unique("fleet")
        self.iot.create_provisioning_template(templateName=fleet, templateBody=JITP_TEMPLATE, provisioningRoleArn=ROLE)
        self.addCleanup(self.iot.delete_provisioning_template, templateName=fleet)
        self.assertClientError(self.register, "InvalidRequestException", 400, ca, registrationConfig={"templateName": fleet})
        self.assertClientError(self.register, "InvalidRequestException", 400, ca, registrationConfig={"templateBody": "{not json"})
        self.assertClientError(self.register, "InvalidRequestException", 400, ca,
                               registrationConfig={"templateBody": JITP_TEMPLATE, "templateName": fleet})
        self.assertClientError(self.iot.describe_ca_certificate, "ResourceNotFoundException", 404, certificateId=certificate_id_of(ca.pem))

    # ------------------------------------------------------------------ update

    def test_update_status_auto_registration_and_config(self):
        ca = self.new_ca()
        ca_id = self.register(ca)["certificateId"]
        self.cleanup_ca(ca_id)
        self.iot.update_ca_certificate(certificateId=ca_id, newStatus="ACTIVE", newAutoRegistrationStatus="ENABLE",
                                       registrationConfig={"templateBody": JITP_TEMPLATE, "roleArn": ROLE})
        described = self.iot.describe_ca_certificate(certificateId=ca_id)
        d = described["certificateDescription"]
        self.assertEqual((d["status"], d["autoRegistrationStatus"], d["customerVersion"]), ("ACTIVE", "ENABLE", 2))
        self.assertGreaterEqual(d["lastModifiedDate"], d["creationDate"])
        self.assertEqual(described["registrationConfig"]["templateBody"], JITP_TEMPLATE)

        self.iot.update_ca_certificate(certificateId=ca_id, removeAutoRegistration=True)
        described = self.iot.describe_ca_certificate(certificateId=ca_id)
        self.assertNotIn("registrationConfig", described)
        self.assertEqual(described["certificateDescription"]["autoRegistrationStatus"], "DISABLE")

    def test_update_errors(self):
        self.assertClientError(self.iot.update_ca_certificate, "ResourceNotFoundException", 404, certificateId="a" * 64, newStatus="ACTIVE")
        ca = self.new_ca()
        ca_id = self.register(ca)["certificateId"]
        self.cleanup_ca(ca_id)
        self.assertClientError(self.iot.update_ca_certificate, "ResourceNotFoundException", 404,
                               certificateId=ca_id, registrationConfig={"templateName": fk.unique("missing")})
        self.assertClientError(self.iot.update_ca_certificate, "InvalidRequestException", 400,
                               certificateId=ca_id, registrationConfig={"templateBody": "[]"})

    # ------------------------------------------------------------------ list

    def test_list_pages_in_both_orders(self):
        ids = []
        for i in range(3):
            ca_id = self.register(self.new_ca(f"ca{i}"))["certificateId"]
            self.cleanup_ca(ca_id)
            ids.append(ca_id)
        ascending = [c["certificateId"] for c in self.all_pages("list_ca_certificates", "certificates", ascendingOrder=True, pageSize=1) if c["certificateId"] in ids]
        self.assertEqual(ascending, ids)
        descending = [c["certificateId"] for c in self.all_pages("list_ca_certificates", "certificates", pageSize=2) if c["certificateId"] in ids]
        self.assertEqual(descending, list(reversed(ids)))
        first = self.iot.list_ca_certificates(pageSize=1, ascendingOrder=True)
        self.assertEqual(len(first["certificates"]), 1)
        self.assertIn("nextMarker", first)
        item = next(c for c in self.all_pages("list_ca_certificates", "certificates") if c["certificateId"] == ids[0])
        self.assertEqual(item["certificateArn"], fk.arn("cacert", ids[0]))
        self.assertEqual(item["status"], "INACTIVE")
        self.assertRecentDatetime(item["creationDate"], "creationDate")

    # ------------------------------------------------------------------ device certificates and deletion

    def test_device_certificates_of_a_registered_ca(self):
        ca = self.new_ca()
        ca_id = self.register(ca, setAsActive=True)["certificateId"]
        self.cleanup_ca(ca_id)
        device = ca.issue(f"/CN={self.name('dev')}")
        registered = self.iot.register_certificate(certificatePem=device["pem"], caCertificatePem=ca.pem, setAsActive=True)
        self.assertEqual(registered["certificateId"], certificate_id_of(device["pem"]))
        described = self.iot.describe_certificate(certificateId=registered["certificateId"])["certificateDescription"]
        self.assertEqual(described["caCertificateId"], ca_id)
        self.assertEqual(described["status"], "ACTIVE")

        # Without caCertificatePem the issuer is found among the registered CAs.
        other = ca.issue(f"/CN={self.name('dev2')}")
        second = self.iot.register_certificate(certificatePem=other["pem"], status="INACTIVE")
        self.assertEqual(self.iot.describe_certificate(certificateId=second["certificateId"])["certificateDescription"]["caCertificateId"], ca_id)

        by_ca = [c["certificateId"] for c in self.all_pages("list_certificates_by_ca", "certificates", caCertificateId=ca_id)]
        self.assertEqual(sorted(by_ca), sorted([registered["certificateId"], second["certificateId"]]))

        # An INACTIVE CA registers nothing.
        self.iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE")
        third = ca.issue(f"/CN={self.name('dev3')}")
        self.assertClientError(self.iot.register_certificate, "CertificateStateException", 406,
                               certificatePem=third["pem"], caCertificatePem=ca.pem)

    def test_delete_only_inactive_and_without_device_certificates(self):
        ca = self.new_ca()
        ca_id = self.register(ca, setAsActive=True)["certificateId"]
        self.cleanup_ca(ca_id)
        self.assertClientError(self.iot.delete_ca_certificate, "CertificateStateException", 406, certificateId=ca_id)
        device = ca.issue(f"/CN={self.name('dev')}")
        cert_id = self.iot.register_certificate(certificatePem=device["pem"], caCertificatePem=ca.pem)["certificateId"]
        self.iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE")
        self.assertClientError(self.iot.delete_ca_certificate, "CertificateStateException", 406, certificateId=ca_id)
        self.iot.delete_certificate(certificateId=cert_id)
        self.iot.delete_ca_certificate(certificateId=ca_id)
        self.assertClientError(self.iot.describe_ca_certificate, "ResourceNotFoundException", 404, certificateId=ca_id)
        self.assertClientError(self.iot.delete_ca_certificate, "ResourceNotFoundException", 404, certificateId=ca_id)
        self.assertNotIn(ca_id, [c["certificateId"] for c in self.all_pages("list_ca_certificates", "certificates")])
        # Once the CA is gone its certificates no longer register.
        again = ca.issue(f"/CN={self.name('dev4')}")
        self.assertClientError(self.iot.register_certificate, "CertificateValidationException", 400, certificatePem=again["pem"])

    def test_invalid_ids_are_invalid_request(self):
        # The model's pattern (0x)?[a-fA-F0-9]+ (botocore checks only the length).
        for op in (self.iot.describe_ca_certificate, self.iot.delete_ca_certificate, self.iot.update_ca_certificate):
            self.assertClientError(op, "InvalidRequestException", 400, certificateId="g" * 64)
        self.assertClientError(self.iot.update_ca_certificate, "InvalidRequestException", 400, certificateId="a" * 64, newStatus="PENDING")
