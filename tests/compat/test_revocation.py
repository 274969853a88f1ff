"""Revocation others can check (issue 19): the CRL and the OCSP responder on the device listener,
driven by the `openssl` command line as a relying party would, for an ACTIVE, an INACTIVE, a REVOKED
and a foreign certificate (and an INACTIVE one reactivated, a REVOKED one deleted).

The server gets an explicit plain-HTTP loopback `--device-http` (fleetkey_server passes one), so
`openssl ocsp -url http://…` works whether the device listener's default is HTTP or HTTPS.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import shutil
import unittest
import urllib.error
import urllib.request

from compat_base import CompatTestCase
import fleetkey_server as fk
from test_certificates import OPENSSL, fetch_ca_pem, openssl


def _write(directory: str, name: str, content) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb" if isinstance(content, bytes) else "w") as f:
        f.write(content)
    return path


class RevocationTest(CompatTestCase):
    @classmethod
    def setUpClass(cls):
        # A server of its own: its CRL holds only what these tests revoke.
        cls.server = fk.FleetkeyServer(log_name="revocation")
        try:
            cls.server.start()
        except fk.ServerStartError as e:
            raise unittest.SkipTest(str(e)) from e
        cls.iot = fk.make_client(cls.server)
        cls.work = tempfile.mkdtemp(prefix="fleetkey-revocation-")
        cls.device_base = f"http://127.0.0.1:{cls.server.device_port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.work, ignore_errors=True)

    # ------------------------------------------------------------------ helpers

    def get(self, url: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()

    def local(self, url: str) -> str:
        """The URL a certificate names (on --public-host), as reachable here: on 127.0.0.1."""
        prefix = f"http://{fk.PUBLIC_HOST}:{self.server.device_port}/"
        self.assertTrue(url.startswith(prefix), f"{url} is not on the device listener's public URL {prefix}")
        return self.device_base + "/" + url[len(prefix):]

    def certificate(self, name: str, status: str) -> tuple[str, str]:
        """A new certificate (CreateKeysAndCertificate) in `status`; returns its id and PEM file."""
        created = self.iot.create_keys_and_certificate(setAsActive=True)
        if status != "ACTIVE":
            self.iot.update_certificate(certificateId=created["certificateId"], newStatus=status)
        return created["certificateId"], _write(self.work, f"{name}.pem", created["certificatePem"])

    def crl_file(self, issuing_id: str) -> str:
        status, content_type, der = self.get(f"{self.device_base}/crl/{issuing_id}.crl")
        self.assertEqual((status, content_type), (200, "application/pkix-crl"))
        path = _write(self.work, "fleetkey.crl.der", der)
        openssl("crl", "-inform", "DER", "-in", path, "-out", os.path.join(self.work, "fleetkey.crl.pem"))
        return os.path.join(self.work, "fleetkey.crl.pem")

    def verify_with_crl(self, cert: str, crl: str) -> subprocess.CompletedProcess:
        return openssl("verify", "-crl_check", "-CAfile", self.ca_file, "-CRLfile", crl, cert, check=False)

    def ocsp(self, issuer: str, cert: str, ca_file: str | None = None) -> str:
        proc = openssl("ocsp", "-issuer", issuer, "-cert", cert, "-url", f"{self.device_base}/ocsp",
                       "-CAfile", ca_file or self.ca_file, "-resp_text", check=False)
        return proc.stdout + proc.stderr

    # ------------------------------------------------------------------ the test

    def test_crl_and_ocsp_with_openssl(self):
        self.ca_file = _write(self.work, "ca.pem", fetch_ca_pem(self.server))
        active_id, active = self.certificate("active", "ACTIVE")
        inactive_id, inactive = self.certificate("inactive", "INACTIVE")
        revoked_id, revoked = self.certificate("revoked", "REVOKED")

        # The certificate names its CRL, OCSP responder and CA certificate on the device listener.
        extensions = openssl("x509", "-in", active, "-noout", "-ext", "crlDistributionPoints,authorityInfoAccess").stdout
        crl_url = re.search(r"URI:(\S+\.crl)", extensions).group(1)
        ocsp_url = re.search(r"OCSP - URI:(\S+)", extensions).group(1)
        issuers_url = re.search(r"CA Issuers - URI:(\S+)", extensions).group(1)
        self.assertEqual(self.local(ocsp_url), f"{self.device_base}/ocsp")
        status, content_type, issuing_der = self.get(self.local(issuers_url))
        self.assertEqual((status, content_type), (200, "application/pkix-cert"))
        issuer = _write(self.work, "issuing.pem", openssl("x509", "-inform", "DER", "-in", _write(self.work, "issuing.der", issuing_der)).stdout)
        issuing_id = fk_certificate_id(issuing_der)
        self.assertEqual(self.local(crl_url), f"{self.device_base}/crl/{issuing_id}.crl")

        # CRL: openssl verify -crl_check accepts the ACTIVE one, refuses the INACTIVE and REVOKED ones.
        crl = self.crl_file(issuing_id)
        ok = self.verify_with_crl(active, crl)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        for cert in (inactive, revoked):
            refused = self.verify_with_crl(cert, crl)
            self.assertNotEqual(refused.returncode, 0, refused.stdout)
            self.assertIn("certificate revoked", refused.stdout + refused.stderr)
        crl_text = openssl("crl", "-in", crl, "-noout", "-text").stdout
        self.assertIn("Certificate Hold", crl_text)

        # OCSP: good, revoked with certificateHold, revoked (no reason: AWS's REVOKED gives none).
        answer = self.ocsp(issuer, active)
        self.assertIn(f"{active}: good", answer)
        self.assertIn("Response verify OK", answer)
        self.assertNotIn("WARNING: no nonce", answer)
        answer = self.ocsp(issuer, inactive)
        self.assertIn(f"{inactive}: revoked", answer)
        self.assertIn("Reason: certificateHold", answer)
        self.assertIn("Response verify OK", answer)
        answer = self.ocsp(issuer, revoked)
        self.assertIn(f"{revoked}: revoked", answer)
        self.assertNotIn("Reason:", answer)
        self.assertIn("Response verify OK", answer)

        # A foreign certificate (another CA's): the responder is not authoritative for it.
        foreign_ca, foreign_leaf = self.foreign_certificate()
        answer = self.ocsp(foreign_ca, foreign_leaf, ca_file=foreign_ca)
        self.assertIn("unauthorized", answer)

        # Reactivated: the hold is lifted at once, in the CRL and by OCSP.
        self.iot.update_certificate(certificateId=inactive_id, newStatus="ACTIVE")
        ok = self.verify_with_crl(inactive, self.crl_file(issuing_id))
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn(f"{inactive}: good", self.ocsp(issuer, inactive))

        # Deleted: a revoked certificate stays revoked until it expires.
        self.iot.delete_certificate(certificateId=revoked_id)
        refused = self.verify_with_crl(revoked, self.crl_file(issuing_id))
        self.assertIn("certificate revoked", refused.stdout + refused.stderr)
        self.assertIn(f"{revoked}: revoked", self.ocsp(issuer, revoked))
        self.assertIsNotNone(active_id)

    def foreign_certificate(self) -> tuple[str, str]:
        """A CA Fleetkey does not know, and a leaf it signed (openssl req / x509)."""
        ca_key, ca = os.path.join(self.work, "foreign-ca.key"), os.path.join(self.work, "foreign-ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
                "-out", ca, "-subj", "/CN=Foreign Root", "-days", "2",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        leaf_key, csr, leaf = (os.path.join(self.work, n) for n in ("foreign.key", "foreign.csr", "foreign.pem"))
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", leaf_key,
                "-out", csr, "-subj", "/CN=foreign-device")
        openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", leaf, "-days", "1")
        return ca, leaf


def fk_certificate_id(der: bytes) -> str:
    import hashlib
    return hashlib.sha256(der).hexdigest()


if __name__ == "__main__":
    unittest.main()
