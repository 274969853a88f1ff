"""The MQTT listener under attack (issue 16), through a real `fleetkey serve` and raw TLS sockets:

- 8 connections each announce a 250 MB CONNECT and stream it, again and again for 5 s, with an
  INACTIVE certificate and with an ACTIVE one: the server's resident memory grows by less than
  100 MB, every stream is cut off within a few MB (socket buffers), and /health answers throughout. (Before: each CONNECT was buffered whole;
  8 took the server from 0.7 to 3.6 GB.)
- An authorized device's 20 MB PUBLISH is cut off after its header and never delivered.
- Refusals show in /metrics by reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import threading
import time
import unittest
import urllib.request

from compat_base import CompatTestCase
import fleetkey_server as fk

MB = 1024 * 1024
CONNECT_ANNOUNCED = 250 * MB
ATTACKERS = 8
ATTACK_SECONDS = 5


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server process with the broker")
class MqttAttackTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server, cls.iot, cls.tmp, cls.ca = fk.start_mqtt_server("mqtt-attacks")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def device(self, active: bool) -> tuple[str, str]:
        created = self.iot.create_keys_and_certificate(setAsActive=active)
        cert = os.path.join(self.tmp, created["certificateId"] + ".crt")
        key = os.path.join(self.tmp, created["certificateId"] + ".key")
        with open(cert, "w") as f:
            f.write(created["certificatePem"])
        with open(key, "w") as f:
            f.write(created["keyPair"]["PrivateKey"])
        if active:
            name = self.name("attacker")
            self.iot.create_policy(policyName=name, policyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}')
            self.iot.attach_policy(policyName=name, target=created["certificateArn"])
        return cert, key

    def tls(self, cert: str, key: str) -> ssl.SSLSocket:
        context = ssl.create_default_context(cafile=self.ca)
        context.check_hostname = False
        context.load_cert_chain(cert, key)
        raw = socket.create_connection(("127.0.0.1", self.server.mqtt_port), timeout=30)
        return context.wrap_socket(raw, server_hostname="localhost")

    def stream(self, cert: str, key: str, header: bytes, announced: int, preamble: bytes = b"") -> int:
        """Sends a packet header announcing `announced` bytes, then zeros until the server stops taking them; the bytes it took."""
        sent = 0
        chunk = bytes(64 * 1024)
        try:
            with self.tls(cert, key) as s:
                s.sendall(preamble + header)
                while sent < announced:
                    s.sendall(chunk)
                    sent += len(chunk)
        except (OSError, ssl.SSLError):
            pass
        return sent

    def health_ok(self) -> bool:
        try:
            with urllib.request.urlopen(self.server.endpoint + "/health", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def attack(self, cert: str, key: str, label: str) -> None:
        pid = self.server.proc.pid
        before = rss_bytes(pid)
        peak = before
        sent: list[int] = []
        health: list[bool] = []
        done = threading.Event()

        def attacker():
            # Again and again for ATTACK_SECONDS: each connection is cut off, the attacker comes back.
            until = time.monotonic() + ATTACK_SECONDS
            while time.monotonic() < until:
                sent.append(self.stream(cert, key, b"\x10" + varint(CONNECT_ANNOUNCED), CONNECT_ANNOUNCED))

        def watch():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_bytes(pid))
                health.append(self.health_ok())
                time.sleep(0.1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        threads = [threading.Thread(target=attacker, daemon=True) for _ in range(ATTACKERS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        done.set()
        watcher.join(timeout=10)
        elapsed = time.monotonic() - started
        peak = max(peak, rss_bytes(pid))

        self.assertFalse(any(t.is_alive() for t in threads), f"{label}: attackers still streaming after {elapsed:.0f} s")
        self.assertGreaterEqual(len(sent), ATTACKERS)
        self.assertTrue(all(n < 16 * MB for n in sent), f"{label}: the server took {sent} bytes of 250 MB CONNECTs")
        self.assertLess(peak - before, 100 * MB, f"{label}: RSS {before / MB:.0f} MB -> peak {peak / MB:.0f} MB")
        self.assertTrue(health and all(health), f"{label}: /health failed during the attack: {health}")
        self.assertTrue(self.health_ok())

    def test_250mb_connects_with_an_inactive_certificate_are_refused_in_the_handshake(self):
        cert, key = self.device(active=False)
        self.attack(cert, key, "INACTIVE")
        self.assertCounted("fleetkey_mqtt_connect_refusals", "certificate_not_active")

    def test_250mb_connects_with_an_active_certificate_are_cut_off_after_the_header(self):
        cert, key = self.device(active=True)
        self.attack(cert, key, "ACTIVE")
        self.assertCounted("fleetkey_mqtt_connect_refusals", "packet_too_large")

    def test_20mb_publish_of_an_authorized_device_is_cut_off(self):
        cert, key = self.device(active=True)
        client_id = self.name("big")
        body = bytearray(b"\x00\x04MQTT\x05\x02\x00\x3c\x00")
        body += len(client_id).to_bytes(2, "big") + client_id.encode()
        connect = b"\x10" + varint(len(body)) + bytes(body)
        sent = self.stream(cert, key, b"\x30" + varint(20 * MB), 20 * MB, preamble=connect)
        self.assertLess(sent, 16 * MB, "the server took the 20 MB PUBLISH")
        self.assertCounted("fleetkey_mqtt_protocol_violations", "packet_too_large")

    def assertCounted(self, name: str, reason: str) -> None:
        """The counter has a series for reason (the exporter may answer from a scrape a moment old: asked again for up to 5 s)."""
        deadline = time.monotonic() + 5
        while True:
            with urllib.request.urlopen(self.server.endpoint + "/metrics", timeout=10) as r:
                lines = [line for line in r.read().decode().splitlines() if line.startswith(name)]
            if any(f'reason="{reason}"' in line for line in lines) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertTrue(any(f'reason="{reason}"' in line for line in lines), "\n".join(lines))


if __name__ == "__main__":
    unittest.main()
