"""Certificates: CreateKeysAndCertificate, CreateCertificateFromCsr, DescribeCertificate,
ListCertificates(ByCA), UpdateCertificate, DeleteCertificate, RegisterCertificate(WithoutCA) (boto3).

Certificates are checked with the `openssl` command line (verify against GET /ca.pem, subjects,
public keys) and hashlib (certificate id = SHA-256 of the DER). The module-level helpers are
imported by test_principals, test_policies and test_register_thing.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

from compat_base import CompatTestCase
import fleetkey_server as fk

OPENSSL = "/usr/bin/openssl" if os.path.exists("/usr/bin/openssl") else (shutil.which("openssl") or "openssl")
UTC = datetime.timezone.utc
# AWS-issued certificates are valid until 2049-12-31T23:59:59Z (developerguide x509-client-certs;
# aws-samples/aws-iot-fleet-provisioning#15); Fleetkey's default copies it (issue 3).
AWS_NOT_AFTER = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s+.*?-----END CERTIFICATE-----", re.S)


# --------------------------------------------------------------------------- PKI helpers

def openssl(*args: str, input_text: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Runs openssl; with check, raises AssertionError carrying its stderr on a non-zero exit."""
    proc = subprocess.run([OPENSSL, *args], input=input_text, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def pem_certificates(text: str) -> list[str]:
    return [m.group(0) + "\n" for m in _PEM_CERT.finditer(text or "")]


def der_of(pem: str) -> bytes:
    blocks = pem_certificates(pem)
    assert blocks, f"no PEM certificate in {pem[:80]!r}"
    body = blocks[0].split("-----")[2]
    return base64.b64decode("".join(body.split()))


def certificate_id_of(pem: str) -> str:
    """The AWS certificate id: lowercase hex SHA-256 of the DER (design §4; getmoto/moto#3321)."""
    return hashlib.sha256(der_of(pem)).hexdigest()


def fetch_ca_pem(server=None) -> str:
    server = server or fk.shared()
    with urllib.request.urlopen(server.endpoint + "/ca.pem", timeout=30) as r:
        assert r.status == 200, f"GET /ca.pem answered {r.status}"
        return r.read().decode("ascii")


class TempDir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="fleetkey-pki-")

    def file(self, name: str, text: str | None = None) -> str:
        p = os.path.join(self.path, name)
        if text is not None:
            with open(p, "w") as f:
                f.write(text)
        return p

    def read(self, name: str) -> str:
        with open(os.path.join(self.path, name)) as f:
            return f.read()

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def new_key_args(key: str) -> list[str]:
    """openssl req -newkey arguments for 'rsa:2048', 'rsa:1024', 'ec:P-256', 'ec:P-384', 'ec:secp256k1'."""
    kind, _, param = key.partition(":")
    if kind == "rsa":
        return ["-newkey", f"rsa:{param}"]
    return ["-newkey", "ec", "-pkeyopt", f"ec_paramgen_curve:{param}"]


def make_csr(tmp: TempDir, subject: str = "/CN=dev-1", key: str = "rsa:2048", name: str = "dev") -> tuple[str, str]:
    """A CSR made by `openssl req -new -newkey ... -nodes`; returns (csr PEM, private key PEM)."""
    openssl("req", "-new", *new_key_args(key), "-nodes", "-subj", subject,
            "-keyout", tmp.file(f"{name}.key"), "-out", tmp.file(f"{name}.csr"))
    return tmp.read(f"{name}.csr"), tmp.read(f"{name}.key")


def tamper_csr(csr_pem: str, old: bytes, new: bytes) -> str:
    """Replaces bytes inside the signed part of a CSR (same length), so its signature no longer verifies."""
    assert len(old) == len(new)
    body = "".join(csr_pem.split("-----")[2].split())
    der = base64.b64decode(body)
    assert old in der, "value to tamper with not found in the CSR"
    der = der.replace(old, new, 1)
    b64 = base64.b64encode(der).decode()
    lines = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{lines}\n-----END CERTIFICATE REQUEST-----\n"


LEAF_EXTENSIONS = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"


def self_signed_leaf(tmp: TempDir, subject: str = "/CN=self-signed-device", name: str = "self") -> tuple[str, str]:
    """A self-signed end-entity certificate (CA:FALSE, RSA-2048, SHA-256); returns (cert PEM, key PEM)."""
    csr, key = make_csr(tmp, subject, "rsa:2048", name)
    openssl("x509", "-req", "-in", tmp.file(f"{name}.csr"), "-signkey", tmp.file(f"{name}.key"),
            "-days", "365", "-sha256", "-extfile", tmp.file("leaf.ext", LEAF_EXTENSIONS),
            "-out", tmp.file(f"{name}.pem"))
    return tmp.read(f"{name}.pem"), key


def outside_ca_leaf(tmp: TempDir, subject: str = "/CN=outside-device") -> tuple[str, str]:
    """A CA of our own (unknown to Fleetkey) and a device certificate it signed: (device PEM, CA PEM)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=Outside Test CA",
            "-keyout", tmp.file("outside-ca.key"), "-out", tmp.file("outside-ca.pem"), "-days", "365",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    make_csr(tmp, subject, "rsa:2048", "outside-dev")
    openssl("x509", "-req", "-in", tmp.file("outside-dev.csr"), "-CA", tmp.file("outside-ca.pem"),
            "-CAkey", tmp.file("outside-ca.key"), "-CAcreateserial", "-days", "365", "-sha256",
            "-extfile", tmp.file("leaf.ext", LEAF_EXTENSIONS), "-out", tmp.file("outside-dev.pem"))
    return tmp.read("outside-dev.pem"), tmp.read("outside-ca.pem")


def subject_of(tmp: TempDir, cert_pem: str, what: str = "subject") -> str:
    """`openssl x509 -noout -subject` (or -issuer) in RFC 2253 form, e.g. 'CN=dev-1'."""
    out = openssl("x509", "-noout", f"-{what}", "-nameopt", "RFC2253", "-in", tmp.file("x.pem", cert_pem)).stdout
    return out.strip().split("=", 1)[1]


def public_key_of_certificate(tmp: TempDir, cert_pem: str) -> str:
    return openssl("x509", "-noout", "-pubkey", "-in", tmp.file("pk.pem", cert_pem)).stdout.strip()


def public_key_of_private(tmp: TempDir, key_pem: str) -> str:
    return openssl("pkey", "-pubout", "-in", tmp.file("priv.pem", key_pem)).stdout.strip()


def normalised_public_key(tmp: TempDir, public_pem: str) -> str:
    return openssl("pkey", "-pubin", "-pubout", "-in", tmp.file("pub.pem", public_pem)).stdout.strip()


def certificate_text(tmp: TempDir, cert_pem: str) -> str:
    return openssl("x509", "-noout", "-text", "-in", tmp.file("t.pem", cert_pem)).stdout


def not_after_of(tmp: TempDir, cert_pem: str) -> datetime.datetime:
    out = openssl("x509", "-noout", "-enddate", "-in", tmp.file("e.pem", cert_pem)).stdout.strip()
    return datetime.datetime.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)


def verify_chain(tmp: TempDir, cert_pem: str, ca_pem: str) -> subprocess.CompletedProcess:
    return openssl("verify", "-CAfile", tmp.file("ca.pem", ca_pem), tmp.file("leaf.pem", cert_pem), check=False)


def same_pem(a: str, b: str) -> bool:
    return "".join((a or "").split()) == "".join((b or "").split())


class PkiTestCase(CompatTestCase):
    """CompatTestCase plus a temporary directory for openssl and helpers to make certificates."""

    def setUp(self):
        super().setUp()
        self.tmp = TempDir()
        self.addCleanup(self.tmp.cleanup)

    def new_cert(self, active: bool = True) -> dict:
        return self.iot.create_keys_and_certificate(setAsActive=active)

    def status_of(self, certificate_id: str) -> str:
        return self.iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]["status"]

    def assertVerifiesAgainstCa(self, cert_pem: str):
        # Design §2: GET /ca.pem serves the chain that signs device certificates.
        v = verify_chain(self.tmp, cert_pem, fetch_ca_pem(self.server))
        self.assertEqual(v.returncode, 0, f"openssl verify failed: {v.stdout}{v.stderr}")
        self.assertIn(": OK", v.stdout)

    def register(self, without_ca: bool = False, **kwargs):
        """register_certificate(_without_ca) taking `certificate_status` for the body's `status`
        (assertClientError's own `status` parameter would otherwise swallow it)."""
        if "certificate_status" in kwargs:
            kwargs["status"] = kwargs.pop("certificate_status")
        op = self.iot.register_certificate_without_ca if without_ca else self.iot.register_certificate
        return op(**kwargs)

    def dispose(self, certificate_id: str):
        """Best-effort cleanup: INACTIVE then forceDelete (not an assertion)."""
        try:
            self.iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE")
        except Exception:
            pass
        try:
            self.iot.delete_certificate(certificateId=certificate_id, forceDelete=True)
        except Exception:
            pass


MISSING_CERT_ID = "f" * 64


# --------------------------------------------------------------------------- tests

class CreateKeysAndCertificateTests(PkiTestCase):

    def test_set_as_active_true_is_active(self):
        c = self.new_cert(active=True)
        self.assertEqual(self.status_of(c["certificateId"]), "ACTIVE")

    def test_set_as_active_false_is_inactive(self):
        c = self.new_cert(active=False)
        self.assertEqual(self.status_of(c["certificateId"]), "INACTIVE")

    def test_set_as_active_omitted_is_inactive(self):
        # setAsActive is an optional boolean (model); unset means false, so INACTIVE (moto likewise).
        c = self.iot.create_keys_and_certificate()
        self.assertEqual(self.status_of(c["certificateId"]), "INACTIVE")

    def test_id_is_sha256_of_der_and_arn_names_it(self):
        c = self.new_cert()
        # certificateId = lowercase hex SHA-256 of the DER (design §4; getmoto/moto#3321, confirmed
        # with AWS support there); 64 chars, pattern (0x)?[a-fA-F0-9]+ (model).
        self.assertEqual(c["certificateId"], certificate_id_of(c["certificatePem"]))
        self.assertRegex(c["certificateId"], r"^[0-9a-f]{64}$")
        self.assertEqual(c["certificateArn"], fk.arn("cert", c["certificateId"]))

    def test_key_pair_is_rsa_2048_and_matches_the_certificate(self):
        c = self.new_cert()
        # KeyPair members are PascalCase {PublicKey, PrivateKey} (model).
        self.assertEqual(set(c["keyPair"]), {"PublicKey", "PrivateKey"})
        self.assertIn("PRIVATE KEY-----", c["keyPair"]["PrivateKey"])
        self.assertIn("-----BEGIN PUBLIC KEY-----", c["keyPair"]["PublicKey"])
        from_cert = public_key_of_certificate(self.tmp, c["certificatePem"])
        self.assertEqual(public_key_of_private(self.tmp, c["keyPair"]["PrivateKey"]), from_cert)
        self.assertEqual(normalised_public_key(self.tmp, c["keyPair"]["PublicKey"]), from_cert)
        # Model doc: "Creates a 2048-bit RSA key pair".
        text = certificate_text(self.tmp, c["certificatePem"])
        self.assertIn("rsaEncryption", text)
        self.assertIn("(2048 bit)", text)

    def test_certificate_verifies_against_ca_pem(self):
        c = self.new_cert()
        self.assertVerifiesAgainstCa(c["certificatePem"])

    def test_every_call_makes_a_new_key(self):
        a, b = self.new_cert(), self.new_cert()
        self.assertNotEqual(a["certificateId"], b["certificateId"])
        self.assertNotEqual(a["keyPair"]["PublicKey"], b["keyPair"]["PublicKey"])

    def test_private_key_is_returned_once_only(self):
        # Model doc: "This is the only time IoT issues the private key for this certificate".
        c = self.new_cert()
        d = self.iot.describe_certificate(certificateId=c["certificateId"])
        self.assertNotIn("PRIVATE KEY", repr(d))


class CreateCertificateFromCsrTests(PkiTestCase):

    def test_rsa_2048_csr_keeps_subject_and_verifies(self):
        csr, key = make_csr(self.tmp, "/CN=dev-1", "rsa:2048")
        r = self.iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
        self.assertEqual(set(r) - {"ResponseMetadata"}, {"certificateArn", "certificateId", "certificatePem"})
        self.assertEqual(r["certificateId"], certificate_id_of(r["certificatePem"]))
        self.assertEqual(r["certificateArn"], fk.arn("cert", r["certificateId"]))
        self.assertEqual(subject_of(self.tmp, r["certificatePem"]), "CN=dev-1")
        self.assertEqual(public_key_of_certificate(self.tmp, r["certificatePem"]), public_key_of_private(self.tmp, key))
        self.assertVerifiesAgainstCa(r["certificatePem"])
        self.assertEqual(self.status_of(r["certificateId"]), "ACTIVE")

    def test_set_as_active_omitted_is_inactive(self):
        csr, _ = make_csr(self.tmp)
        r = self.iot.create_certificate_from_csr(certificateSigningRequest=csr)
        self.assertEqual(self.status_of(r["certificateId"]), "INACTIVE")

    def test_multi_attribute_subject_is_kept(self):
        csr, _ = make_csr(self.tmp, "/C=NL/O=Fleetkey Test/OU=Line 3/CN=dev-42", "rsa:2048")
        r = self.iot.create_certificate_from_csr(certificateSigningRequest=csr)
        self.assertEqual(subject_of(self.tmp, r["certificatePem"]), "CN=dev-42,OU=Line 3,O=Fleetkey Test,C=NL")

    def test_ec_p256_csr(self):
        # Model doc: the CSR key may be "an ECC key from NIST P-256, NIST P-384, or NIST P-521".
        csr, key = make_csr(self.tmp, "/CN=dev-ec", "ec:P-256")
        r = self.iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
        self.assertEqual(subject_of(self.tmp, r["certificatePem"]), "CN=dev-ec")
        self.assertEqual(public_key_of_certificate(self.tmp, r["certificatePem"]), public_key_of_private(self.tmp, key))
        self.assertIn("prime256v1", certificate_text(self.tmp, r["certificatePem"]))
        self.assertVerifiesAgainstCa(r["certificatePem"])

    def test_ec_p384_csr(self):
        csr, _ = make_csr(self.tmp, "/CN=dev-p384", "ec:P-384")
        r = self.iot.create_certificate_from_csr(certificateSigningRequest=csr)
        self.assertVerifiesAgainstCa(r["certificatePem"])

    def test_same_csr_twice_gives_two_certificates(self):
        # Model doc: "Reusing the same certificate signing request (CSR) results in a distinct certificate."
        csr, _ = make_csr(self.tmp)
        a = self.iot.create_certificate_from_csr(certificateSigningRequest=csr)
        b = self.iot.create_certificate_from_csr(certificateSigningRequest=csr)
        self.assertNotEqual(a["certificateId"], b["certificateId"])

    def test_rsa_1024_csr_is_invalid_request(self):
        # Model doc: "an RSA key with a length of at least 2048 bits"; CreateCertificateFromCsr declares
        # only InvalidRequestException among client errors.
        csr, _ = make_csr(self.tmp, "/CN=weak", "rsa:1024")
        self.assertClientError(self.iot.create_certificate_from_csr, "InvalidRequestException", 400,
                               certificateSigningRequest=csr)

    def test_unsupported_curve_is_invalid_request(self):
        # Only NIST P-256/P-384/P-521 are accepted (model doc); secp256k1 is not one of them.
        csr, _ = make_csr(self.tmp, "/CN=k1", "ec:secp256k1")
        self.assertClientError(self.iot.create_certificate_from_csr, "InvalidRequestException", 400,
                               certificateSigningRequest=csr)

    def test_garbage_csr_is_invalid_request(self):
        self.assertClientError(self.iot.create_certificate_from_csr, "InvalidRequestException", 400,
                               certificateSigningRequest="-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n")
        self.assertClientError(self.iot.create_certificate_from_csr, "InvalidRequestException", 400,
                               certificateSigningRequest="this is not a CSR")

    def test_csr_with_a_bad_signature_is_invalid_request(self):
        # Issue 3: "the CSR's signature is verified". Changing one byte of the signed subject
        # leaves a well-formed CSR whose signature does not verify.
        csr, _ = make_csr(self.tmp, "/CN=dev-1", "rsa:2048")
        bad = tamper_csr(csr, b"dev-1", b"dev-9")
        check = openssl("req", "-verify", "-noout", "-in", self.tmp.file("bad.csr", bad), check=False)
        # (openssl 3.0 exits 0 here, so its message is what tells.)
        self.assertNotIn("verify OK", check.stdout + check.stderr, "the tampered CSR should fail openssl's own check")
        self.assertClientError(self.iot.create_certificate_from_csr, "InvalidRequestException", 400,
                               certificateSigningRequest=bad)


class DescribeCertificateTests(PkiTestCase):

    def test_description_has_every_field(self):
        c = self.new_cert(active=True)
        d = self.iot.describe_certificate(certificateId=c["certificateId"])["certificateDescription"]
        self.assertEqual(d["certificateArn"], c["certificateArn"])
        self.assertEqual(d["certificateId"], c["certificateId"])
        self.assertEqual(d["status"], "ACTIVE")
        self.assertTrue(same_pem(d["certificatePem"], c["certificatePem"]))
        # ownedBy is the account id (model: AwsAccountId, 12 digits); design §2 default 000000000000.
        self.assertEqual(d["ownedBy"], fk.ACCOUNT_ID)
        self.assertRecentDatetime(d["creationDate"], "creationDate")
        self.assertRecentDatetime(d["lastModifiedDate"], "lastModifiedDate")
        self.assertIsInstance(d["customerVersion"], int)
        self.assertGreaterEqual(d["customerVersion"], 1)
        self.assertIsInstance(d["generationId"], str)
        self.assertTrue(d["generationId"])
        # certificateMode: DEFAULT | SNI_ONLY (model); certificates issued by the account's CA are DEFAULT.
        self.assertEqual(d["certificateMode"], "DEFAULT")
        # caCertificateId names the issuing CA, one of the certificates served at /ca.pem (issue 3:
        # "full certificateDescription incl. validity, caCertificateId").
        ca_ids = [certificate_id_of(p) for p in pem_certificates(fetch_ca_pem(self.server))]
        self.assertIn(d["caCertificateId"], ca_ids)
        issuer = subject_of(self.tmp, c["certificatePem"], "issuer")
        issuing = [p for p in pem_certificates(fetch_ca_pem(self.server)) if subject_of(self.tmp, p) == issuer]
        self.assertEqual([certificate_id_of(p) for p in issuing], [d["caCertificateId"]])

    def test_validity_defaults_to_2049_12_31(self):
        c = self.new_cert()
        d = self.iot.describe_certificate(certificateId=c["certificateId"])["certificateDescription"]
        self.assertEqual(d["validity"]["notAfter"], AWS_NOT_AFTER)
        self.assertEqual(not_after_of(self.tmp, c["certificatePem"]), AWS_NOT_AFTER)
        now = datetime.datetime.now(UTC)
        self.assertLessEqual(d["validity"]["notBefore"], now + datetime.timedelta(seconds=5))
        self.assertGreater(d["validity"]["notBefore"], now - datetime.timedelta(days=2))

    def test_missing_certificate_is_resource_not_found(self):
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404,
                               certificateId=MISSING_CERT_ID)

    def test_malformed_id_is_invalid_request(self):
        # CertificateId: fixed length 64, pattern (0x)?[a-fA-F0-9]+ (model); sent without client validation.
        raw = fk.client(validate=False)
        self.assertClientError(raw.describe_certificate, "InvalidRequestException", 400, certificateId="abc")
        self.assertClientError(raw.describe_certificate, "InvalidRequestException", 400, certificateId="z" * 64)


class ListCertificatesTests(PkiTestCase):

    def make_seven(self) -> list[str]:
        return [self.new_cert(active=(i % 2 == 0))["certificateId"] for i in range(7)]

    def walk(self, **kwargs) -> list[dict]:
        out, marker, pages = [], None, 0
        while True:
            args = dict(kwargs)
            if marker:
                args["marker"] = marker
            page = self.iot.list_certificates(**args)
            pages += 1
            if "pageSize" in kwargs:
                self.assertLessEqual(len(page["certificates"]), kwargs["pageSize"])
            out.extend(page["certificates"])
            marker = page.get("nextMarker")
            if not marker:
                return out
            self.assertLess(pages, 10000, "paging does not end")

    def test_page_size_and_marker_walk_every_certificate_once(self):
        ids = self.make_seven()
        listed = self.walk(pageSize=2)
        listed_ids = [c["certificateId"] for c in listed]
        self.assertEqual(len(listed_ids), len(set(listed_ids)), "a certificate was listed twice")
        for cid in ids:
            self.assertIn(cid, listed_ids)

    def test_first_page_is_exactly_page_size_with_next_marker(self):
        self.make_seven()
        page = self.iot.list_certificates(pageSize=3)
        self.assertEqual(len(page["certificates"]), 3)
        self.assertTrue(page.get("nextMarker"))
        nxt = self.iot.list_certificates(pageSize=3, marker=page["nextMarker"])
        self.assertFalse({c["certificateId"] for c in page["certificates"]} & {c["certificateId"] for c in nxt["certificates"]})

    def test_paginator_walks_every_page(self):
        ids = self.make_seven()
        listed = self.all_pages("list_certificates", "certificates", PaginationConfig={"PageSize": 2})
        listed_ids = [c["certificateId"] for c in listed]
        self.assertEqual(len(listed_ids), len(set(listed_ids)))
        self.assertTrue(set(ids) <= set(listed_ids))

    def test_ascending_order_by_creation_date(self):
        # Model: ascendingOrder "If True, the results are returned in ascending order, based on the
        # creation date."
        ids = self.make_seven()
        asc = self.walk(pageSize=4, ascendingOrder=True)
        dates = [c["creationDate"] for c in asc]
        self.assertEqual(dates, sorted(dates))
        self.assertEqual([c["certificateId"] for c in asc if c["certificateId"] in ids], ids)
        desc = self.walk(pageSize=4, ascendingOrder=False)
        dates = [c["creationDate"] for c in desc]
        self.assertEqual(dates, sorted(dates, reverse=True))
        self.assertEqual([c["certificateId"] for c in desc if c["certificateId"] in ids], list(reversed(ids)))

    def test_list_items_carry_the_certificate_shape(self):
        c = self.new_cert(active=True)
        listed = {x["certificateId"]: x for x in self.walk(pageSize=250)}
        item = listed[c["certificateId"]]
        # Certificate (list item) = certificateArn, certificateId, status, certificateMode, creationDate (model).
        self.assertEqual(item["certificateArn"], c["certificateArn"])
        self.assertEqual(item["status"], "ACTIVE")
        self.assertEqual(item["certificateMode"], "DEFAULT")
        self.assertRecentDatetime(item["creationDate"], "creationDate")
        self.assertNotIn("certificatePem", item)

    def test_page_size_out_of_range_is_invalid_request(self):
        # PageSize 1-250 (model); sent without client-side validation.
        raw = fk.client(validate=False)
        self.assertClientError(raw.list_certificates, "InvalidRequestException", 400, pageSize=0)
        self.assertClientError(raw.list_certificates, "InvalidRequestException", 400, pageSize=251)

    def test_list_by_ca(self):
        c = self.new_cert()
        ca_id = self.iot.describe_certificate(certificateId=c["certificateId"])["certificateDescription"]["caCertificateId"]
        listed, marker = [], None
        while True:
            page = self.iot.list_certificates_by_ca(caCertificateId=ca_id, pageSize=50, **({"marker": marker} if marker else {}))
            listed.extend(page["certificates"])
            marker = page.get("nextMarker")
            if not marker:
                break
        self.assertIn(c["certificateId"], [x["certificateId"] for x in listed])

    def test_list_by_unknown_ca_is_empty(self):
        # ListCertificatesByCA declares no ResourceNotFoundException (model): an unknown CA lists nothing.
        page = self.iot.list_certificates_by_ca(caCertificateId="e" * 64)
        self.assertEqual(page["certificates"], [])
        self.assertNoKeyOrEmpty(page, "nextMarker")

    def test_self_signed_certificate_is_not_listed_under_fleetkeys_ca(self):
        pem, _ = self_signed_leaf(self.tmp)
        r = self.iot.register_certificate_without_ca(certificatePem=pem, status="INACTIVE")
        self.addCleanup(self.dispose, r["certificateId"])
        issued = self.new_cert()
        ca_id = self.iot.describe_certificate(certificateId=issued["certificateId"])["certificateDescription"]["caCertificateId"]
        listed = self.all_pages("list_certificates_by_ca", "certificates", caCertificateId=ca_id)
        self.assertNotIn(r["certificateId"], [x["certificateId"] for x in listed])


class UpdateCertificateTests(PkiTestCase):

    def test_active_inactive_active(self):
        c = self.new_cert(active=True)
        cid = c["certificateId"]
        self.iot.update_certificate(certificateId=cid, newStatus="INACTIVE")
        self.assertEqual(self.status_of(cid), "INACTIVE")
        self.iot.update_certificate(certificateId=cid, newStatus="ACTIVE")
        self.assertEqual(self.status_of(cid), "ACTIVE")

    def test_same_status_again_is_idempotent(self):
        # Model doc: "This operation is idempotent."
        c = self.new_cert(active=True)
        self.iot.update_certificate(certificateId=c["certificateId"], newStatus="ACTIVE")
        self.iot.update_certificate(certificateId=c["certificateId"], newStatus="ACTIVE")
        self.assertEqual(self.status_of(c["certificateId"]), "ACTIVE")

    def test_last_modified_date_moves(self):
        c = self.new_cert(active=True)
        before = self.iot.describe_certificate(certificateId=c["certificateId"])["certificateDescription"]
        self.iot.update_certificate(certificateId=c["certificateId"], newStatus="INACTIVE")
        after = self.iot.describe_certificate(certificateId=c["certificateId"])["certificateDescription"]
        self.assertGreaterEqual(after["lastModifiedDate"], before["lastModifiedDate"])
        self.assertEqual(after["creationDate"], before["creationDate"])

    def test_revoked_is_final(self):
        # developerguide revoke-ca-cert: "Once a certificate is revoked, it's status can't be changed.
        # That is, the certificate status can't be changed to Active or any other status."
        # UpdateCertificate declares CertificateStateException (406, "The certificate operation is
        # not allowed") — the code is Fleetkey's reading of the model; AWS's is not published.
        c = self.new_cert(active=True)
        cid = c["certificateId"]
        self.iot.update_certificate(certificateId=cid, newStatus="REVOKED")
        self.assertEqual(self.status_of(cid), "REVOKED")
        self.assertClientError(self.iot.update_certificate, "CertificateStateException", 406,
                               certificateId=cid, newStatus="ACTIVE")
        self.assertClientError(self.iot.update_certificate, "CertificateStateException", 406,
                               certificateId=cid, newStatus="INACTIVE")
        self.assertEqual(self.status_of(cid), "REVOKED")

    def test_internal_statuses_are_invalid_request(self):
        # Model doc: "Setting the status to PENDING_TRANSFER or PENDING_ACTIVATION will result in an
        # exception being thrown."
        c = self.new_cert(active=True)
        for status in ("PENDING_TRANSFER", "PENDING_ACTIVATION"):
            with self.subTest(status=status):
                self.assertClientError(self.iot.update_certificate, "InvalidRequestException", 400,
                                       certificateId=c["certificateId"], newStatus=status)
        self.assertEqual(self.status_of(c["certificateId"]), "ACTIVE")

    def test_unknown_status_is_invalid_request(self):
        c = self.new_cert(active=True)
        self.assertClientError(self.iot.update_certificate, "InvalidRequestException", 400,
                               certificateId=c["certificateId"], newStatus="ENABLED")

    def test_missing_certificate_is_resource_not_found(self):
        self.assertClientError(self.iot.update_certificate, "ResourceNotFoundException", 404,
                               certificateId=MISSING_CERT_ID, newStatus="INACTIVE")


class DeleteCertificateTests(PkiTestCase):

    def make_policy(self) -> str:
        name = self.name("pol")
        self.iot.create_policy(policyName=name, policyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}')
        return name

    def test_inactive_unattached_is_deleted(self):
        c = self.new_cert(active=False)
        self.iot.delete_certificate(certificateId=c["certificateId"])
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404,
                               certificateId=c["certificateId"])
        self.assertNotIn(c["certificateId"], [x["certificateId"] for x in self.all_pages("list_certificates", "certificates")])

    def test_active_is_certificate_state_exception_even_with_force(self):
        # Model doc: "A certificate cannot be deleted if ... its status is set to ACTIVE";
        # CertificateStateException is HTTP 406 (model). AWS's message (rebuy-de/aws-nuke#374):
        # "Certificate must be deactivated (not ACTIVE) before deletion. Id: <certificate>".
        # forceDelete only deletes "if it is inactive" (model), as moto's test_delete_certificate_force.
        c = self.new_cert(active=True)
        e = self.assertClientError(self.iot.delete_certificate, "CertificateStateException", 406,
                                   certificateId=c["certificateId"])
        self.assertIn("deactivated", e.response["Error"]["Message"])
        self.assertClientError(self.iot.delete_certificate, "CertificateStateException", 406,
                               certificateId=c["certificateId"], forceDelete=True)
        self.assertEqual(self.status_of(c["certificateId"]), "ACTIVE")

    def test_attached_to_a_thing_is_delete_conflict_even_with_force(self):
        # Model doc: cannot be deleted with a thing attached; forceDelete works only if it "is not
        # attached to an IoT thing". DeleteConflictException is HTTP 409 (model).
        thing = self.name("t")
        self.iot.create_thing(thingName=thing)
        c = self.new_cert(active=False)
        self.iot.attach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.assertClientError(self.iot.delete_certificate, "DeleteConflictException", 409,
                               certificateId=c["certificateId"])
        self.assertClientError(self.iot.delete_certificate, "DeleteConflictException", 409,
                               certificateId=c["certificateId"], forceDelete=True)
        self.assertEqual(self.iot.list_thing_principals(thingName=thing)["principals"], [c["certificateArn"]])
        self.iot.detach_thing_principal(thingName=thing, principal=c["certificateArn"])
        self.iot.delete_certificate(certificateId=c["certificateId"])

    def test_policy_attached_is_delete_conflict_unless_forced(self):
        # Model doc: "A certificate cannot be deleted if it has a policy ... attached to it";
        # forceDelete: "Forces the deletion of a certificate if it is inactive and is not attached to
        # an IoT thing" — attached policies do not stop it (getmoto/moto#6029: real AWS deletes such a
        # certificate with forceDelete; the seed's unregisterThing relies on this).
        policy = self.make_policy()
        c = self.new_cert(active=True)
        self.iot.attach_policy(policyName=policy, target=c["certificateArn"])
        self.iot.update_certificate(certificateId=c["certificateId"], newStatus="INACTIVE")
        self.assertClientError(self.iot.delete_certificate, "DeleteConflictException", 409,
                               certificateId=c["certificateId"])
        self.assertEqual(self.status_of(c["certificateId"]), "INACTIVE")
        self.iot.delete_certificate(certificateId=c["certificateId"], forceDelete=True)
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404,
                               certificateId=c["certificateId"])
        # The forced delete detached the policy: it has no targets left and can itself be deleted.
        self.assertEqual(self.iot.list_targets_for_policy(policyName=policy)["targets"], [])
        self.iot.delete_policy(policyName=policy)

    def test_revoked_certificate_can_be_deleted(self):
        # Only ACTIVE blocks deletion (model doc); moto's test deletes a REVOKED certificate too.
        c = self.new_cert(active=True)
        self.iot.update_certificate(certificateId=c["certificateId"], newStatus="REVOKED")
        self.iot.delete_certificate(certificateId=c["certificateId"])
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404,
                               certificateId=c["certificateId"])

    def test_missing_certificate_is_resource_not_found(self):
        self.assertClientError(self.iot.delete_certificate, "ResourceNotFoundException", 404,
                               certificateId=MISSING_CERT_ID)


class RegisterCertificateWithoutCaTests(PkiTestCase):

    def test_self_signed_active(self):
        pem, _ = self_signed_leaf(self.tmp, "/CN=no-ca-active")
        r = self.iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")
        self.addCleanup(self.dispose, r["certificateId"])
        self.assertEqual(r["certificateId"], certificate_id_of(pem))
        self.assertEqual(r["certificateArn"], fk.arn("cert", r["certificateId"]))
        d = self.iot.describe_certificate(certificateId=r["certificateId"])["certificateDescription"]
        self.assertEqual(d["status"], "ACTIVE")
        self.assertTrue(same_pem(d["certificatePem"], pem))
        # No CA: caCertificateId is absent (the certificate was registered without one).
        self.assertNotIn("caCertificateId", d)

    def test_self_signed_inactive_then_deleted(self):
        pem, _ = self_signed_leaf(self.tmp, "/CN=no-ca-inactive")
        r = self.iot.register_certificate_without_ca(certificatePem=pem, status="INACTIVE")
        self.assertEqual(self.status_of(r["certificateId"]), "INACTIVE")
        self.iot.delete_certificate(certificateId=r["certificateId"])
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404,
                               certificateId=r["certificateId"])

    def test_twice_is_resource_already_exists(self):
        # RegisterCertificateWithoutCA declares ResourceAlreadyExistsException, HTTP 409 (model);
        # moto: "The certificate is already provisioned or registered".
        pem, _ = self_signed_leaf(self.tmp, "/CN=no-ca-twice")
        r = self.iot.register_certificate_without_ca(certificatePem=pem, status="INACTIVE")
        self.addCleanup(self.dispose, r["certificateId"])
        self.assertClientError(self.register, "ResourceAlreadyExistsException", 409,
                               without_ca=True, certificatePem=pem, certificate_status="INACTIVE")

    def test_a_certificate_fleetkey_issued_is_already_registered(self):
        c = self.new_cert(active=False)
        self.assertClientError(self.register, "ResourceAlreadyExistsException", 409,
                               without_ca=True, certificatePem=c["certificatePem"], certificate_status="ACTIVE")

    def test_garbage_pem_is_rejected(self):
        # Both CertificateValidationException ("The certificate is invalid", 400) and
        # InvalidRequestException are declared (model); which one AWS picks for unparsable PEM is
        # not published.
        self.assertClientErrorIn(self.iot.register_certificate_without_ca,
                                 {"CertificateValidationException": 400, "InvalidRequestException": 400},
                                 certificatePem="-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n")


class RegisterCertificateTests(PkiTestCase):

    def issued_then_deleted(self) -> tuple[str, str]:
        """A certificate Fleetkey's CA issued (from a CSR), deleted again: (PEM, issuing CA PEM)."""
        csr, _ = make_csr(self.tmp, "/CN=re-register")
        r = self.iot.create_certificate_from_csr(certificateSigningRequest=csr)
        self.iot.delete_certificate(certificateId=r["certificateId"])
        issuer = subject_of(self.tmp, r["certificatePem"], "issuer")
        issuing = [p for p in pem_certificates(fetch_ca_pem(self.server)) if subject_of(self.tmp, p) == issuer]
        self.assertEqual(len(issuing), 1, "exactly one certificate in /ca.pem is the issuer")
        return r["certificatePem"], issuing[0]

    def test_certificate_issued_by_fleetkeys_ca_with_ca_pem(self):
        pem, ca = self.issued_then_deleted()
        r = self.iot.register_certificate(certificatePem=pem, caCertificatePem=ca, status="ACTIVE")
        self.addCleanup(self.dispose, r["certificateId"])
        self.assertEqual(r["certificateId"], certificate_id_of(pem))
        self.assertEqual(r["certificateArn"], fk.arn("cert", r["certificateId"]))
        d = self.iot.describe_certificate(certificateId=r["certificateId"])["certificateDescription"]
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(d["caCertificateId"], certificate_id_of(ca))
        self.assertTrue(same_pem(d["certificatePem"], pem))

    def test_certificate_issued_by_fleetkeys_ca_without_ca_pem(self):
        # caCertificatePem is needed only when several CAs share a subject (model doc).
        pem, ca = self.issued_then_deleted()
        r = self.iot.register_certificate(certificatePem=pem, status="INACTIVE")
        self.addCleanup(self.dispose, r["certificateId"])
        d = self.iot.describe_certificate(certificateId=r["certificateId"])["certificateDescription"]
        self.assertEqual(d["status"], "INACTIVE")
        self.assertEqual(d["caCertificateId"], certificate_id_of(ca))

    def test_set_as_active_query_flag(self):
        # setAsActive is deprecated but still in the model (query string).
        pem, ca = self.issued_then_deleted()
        r = self.iot.register_certificate(certificatePem=pem, caCertificatePem=ca, setAsActive=True)
        self.addCleanup(self.dispose, r["certificateId"])
        self.assertEqual(self.status_of(r["certificateId"]), "ACTIVE")

    def test_twice_is_resource_already_exists(self):
        # RegisterCertificate declares ResourceAlreadyExistsException, HTTP 409 (model).
        pem, ca = self.issued_then_deleted()
        r = self.iot.register_certificate(certificatePem=pem, caCertificatePem=ca, status="INACTIVE")
        self.addCleanup(self.dispose, r["certificateId"])
        self.assertClientError(self.register, "ResourceAlreadyExistsException", 409,
                               certificatePem=pem, caCertificatePem=ca, certificate_status="INACTIVE")

    def test_certificate_of_an_unregistered_ca_is_certificate_validation_exception(self):
        # Issue 3: only CAs registered in Fleetkey (until JITP: its own) may sign registered
        # certificates. RegisterCertificate declares CertificateValidationException ("The certificate
        # is invalid", 400, model) — the error AWS's message for this case is not published; ministack
        # (ministackorg/ministack#1397) answers the same code.
        pem, outside_ca = outside_ca_leaf(self.tmp)
        self.assertClientError(self.register, "CertificateValidationException", 400,
                               certificatePem=pem, caCertificatePem=outside_ca, certificate_status="ACTIVE")
        self.assertClientError(self.register, "CertificateValidationException", 400,
                               certificatePem=pem, certificate_status="ACTIVE")
        self.assertClientError(self.iot.describe_certificate, "ResourceNotFoundException", 404,
                               certificateId=certificate_id_of(pem))

    def test_ca_pem_that_did_not_sign_it_is_certificate_validation_exception(self):
        # A Fleetkey-issued certificate paired with a CA that did not sign it.
        pem, _ = self.issued_then_deleted()
        _, outside_ca = outside_ca_leaf(self.tmp)
        self.assertClientError(self.register, "CertificateValidationException", 400,
                               certificatePem=pem, caCertificatePem=outside_ca, certificate_status="ACTIVE")


if __name__ == "__main__":
    unittest.main()
