"""A customer's own CA made with the openssl command line, for CA registration, JITR and JITP tests:
a self-signed CA (basicConstraints CA:TRUE), the verification certificate whose CN is the
registration code (proof of possession of the CA key, AWS docs register-CA-cert), and device
certificates with a chosen subject, signed by the CA. EC P-256 keys keep it fast."""

from __future__ import annotations

import os
import tempfile

from test_certificates import openssl


class OpenSslCa:
    def __init__(self, directory: str, name: str, ca: bool = True):
        self.dir = directory
        self.name = name
        self.key = os.path.join(directory, f"{name}.key")
        self.cert = os.path.join(directory, f"{name}.crt")
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.key)
        constraints = "critical,CA:TRUE" if ca else "critical,CA:FALSE"
        openssl("req", "-x509", "-new", "-key", self.key, "-sha256", "-days", "3650", "-subj", f"/O=Acme/CN={name}",
                "-addext", f"basicConstraints={constraints}", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
                "-out", self.cert)
        self._serial = 1

    @property
    def pem(self) -> str:
        with open(self.cert) as f:
            return f.read()

    def issue(self, subject: str, file_name: str | None = None, ca: bool = False) -> dict:
        """A key and a certificate with this subject (openssl -subj form), signed by this CA."""
        base = os.path.join(self.dir, file_name or f"leaf{self._serial}")
        key, csr, cert, ext = base + ".key", base + ".csr", base + ".crt", base + ".ext"
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
        openssl("req", "-new", "-key", key, "-subj", subject, "-out", csr)
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\n" if ca else "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
        self._serial += 1
        openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-set_serial", str(1000 + self._serial),
                "-days", "365", "-sha256", "-extfile", ext, "-out", cert)
        os.chmod(key, 0o600)
        with open(cert) as f:
            pem = f.read()
        chain = base + "-chain.crt"
        with open(chain, "w") as f:
            f.write(pem + self.pem)
        return {"key": key, "cert": cert, "chain": chain, "pem": pem}

    def verification(self, registration_code: str) -> str:
        """The verification certificate: CN = the registration code, signed by this CA's key."""
        return self.issue(f"/CN={registration_code}")["pem"]


def new_dir() -> str:
    return tempfile.mkdtemp(prefix="fleetkey-ca-")
