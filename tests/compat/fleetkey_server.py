"""Starts and stops a real `fleetkey serve` process for the compatibility suites.

One shared server serves a whole test run (see `shared()`); tests that need a
server of their own (restart, generated credentials) create a `FleetkeyServer`.

Environment:
  FLEETKEY_DLL        path of fleetkey.dll (default: the Release build output)
  FLEETKEY_ENDPOINT   use an already running server instead of starting one;
                      credentials from FLEETKEY_ACCESS_KEY_ID / FLEETKEY_SECRET_ACCESS_KEY
                      (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), public host
                      from FLEETKEY_PUBLIC_HOST (default iot.fleetkey.test)
  FLEETKEY_KEEP_DATA  keep the temporary data directories after the run
  FLEETKEY_TEST_STORE postgres: every server started here runs on a fresh PostgreSQL
                      database of its own (`--database`, made on the FLEETKEY_TEST_POSTGRES
                      server by scripts/postgres.sh create-db, dropped at cleanup); default sqlite
"""

from __future__ import annotations

import atexit
import configparser
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_DLL = os.path.join(REPO_ROOT, "src", "Fleetkey", "bin", "Release", "net10.0", "fleetkey.dll")
# The seed's provisioning template, verbatim, as the repository keeps it (Fleetkey.Client embeds this
# file). The seed itself (../shared/seed, beside the repository) is not needed by any boto3 test.
SEED_TEMPLATE_PATH = os.path.join(REPO_ROOT, "src", "Fleetkey.Client", "register-thing-template-body.json")

REGION = "eu-west-1"
ACCOUNT_ID = "000000000000"
ROOT_ACCESS_KEY_ID = "AKIDFLEETKEYTEST0001"
PUBLIC_HOST = os.environ.get("FLEETKEY_PUBLIC_HOST", "iot.fleetkey.test")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

# A short random id for this run: every name a test creates starts with it, so
# tests never collide with each other or with an earlier run on the same server.
RUN_ID = uuid.uuid4().hex[:6]


def dll_path() -> str:
    return os.environ.get("FLEETKEY_DLL", DEFAULT_DLL)


def seed_template() -> str:
    """The text of the seed's template file (SEED_TEMPLATE_PATH), newlines and all."""
    with open(SEED_TEMPLATE_PATH, encoding="utf-8") as f:
        return f.read()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerStartError(RuntimeError):
    pass


def store() -> str:
    """The store the servers started here run on: sqlite (default) or postgres (FLEETKEY_TEST_STORE)."""
    value = os.environ.get("FLEETKEY_TEST_STORE") or "sqlite"
    if value not in ("sqlite", "postgres"):
        raise ValueError(f"FLEETKEY_TEST_STORE={value}: expected sqlite or postgres")
    return value


def create_database() -> str:
    """A new empty database on the FLEETKEY_TEST_POSTGRES server; returns its postgres:// URL."""
    if not os.environ.get("FLEETKEY_TEST_POSTGRES"):
        raise ServerStartError("FLEETKEY_TEST_STORE=postgres needs FLEETKEY_TEST_POSTGRES (scripts/postgres.sh start)")
    r = subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "postgres.sh"), "create-db"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise ServerStartError(f"scripts/postgres.sh create-db failed: {r.stderr.strip()}")
    return r.stdout.strip()


def drop_database(url: str) -> None:
    subprocess.run(["bash", os.path.join(REPO_ROOT, "scripts", "postgres.sh"), "drop-db", url],
                   capture_output=True, text=True, timeout=60)


def query_database(url: str, sql: str) -> str:
    """Runs one query with psql (unaligned, `|` between columns); for checks on what a server stored."""
    psql = shutil.which("psql") or sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    r = subprocess.run([psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=60, check=True)
    return r.stdout.rstrip("\n")


def arn(kind: str, name: str, region: str = REGION) -> str:
    return f"arn:aws:iot:{region}:{ACCOUNT_ID}:{kind}/{name}"


class FleetkeyServer:
    """A `fleetkey serve` child process on loopback ports with its own data dir.

    `database` runs it on that PostgreSQL database (a restart passes the first server's). Without
    one, on the PostgreSQL pass (FLEETKEY_TEST_STORE=postgres) the first start makes a fresh
    database that cleanup drops; a test passing `--database` in extra_args chooses its own.
    """

    def __init__(self, data_dir: str | None = None, root_keys: bool = True, log_name: str = "server",
                 extra_env: dict | None = None, extra_args: list[str] | None = None,
                 database: str | None = None, store: str | None = None, mqtt: bool = False,
                 cwd: str | None = None, tls: bool = False):
        # The directory the server is started in; a relative data_dir is taken from it, as by fleetkey.
        self.cwd = cwd or REPO_ROOT
        # Both listeners on HTTPS with the certificate Fleetkey's CA issues (clients trust DIR/ca.pem).
        self.tls = tls
        self.store = store
        self.mqtt = mqtt
        self.mqtt_port = 0
        self.extra_env = extra_env or {}
        self.extra_args = extra_args or []
        self.database = database
        self.owns_database = False
        self.owns_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="fleetkey-compat-")
        self.root_keys = root_keys
        self.access_key_id = ROOT_ACCESS_KEY_ID if root_keys else None
        self.secret_access_key = secrets.token_hex(20) if root_keys else None
        # Next to (not inside) the data dir, so the log outlives the data dir's cleanup.
        self.log_path = os.path.abspath(os.path.join(self.cwd, self.data_dir.rstrip(os.sep))) + f"-{log_name}.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.device_port = 0
        self._log_file = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def device_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.device_port}"

    @property
    def ca_bundle(self) -> str:
        """DIR/ca.pem, which the server writes at each start: what clients trust its HTTPS listeners with."""
        return os.path.join(self.cwd, self.data_dir, "ca.pem")

    def ssl_context(self):
        """A client context trusting only the server's CA bundle (None for a plain-HTTP server)."""
        import ssl
        return ssl.create_default_context(cafile=self.ca_bundle) if self.tls else None

    def command(self) -> list[str]:
        return [
            "dotnet", dll_path(), "serve",
            "--data", self.data_dir,
            "--http", self.endpoint,
            "--device-http", self.device_url,
            "--mqtt-port", str(self.mqtt_port),
            "--public-host", PUBLIC_HOST,
            *(["--database", self.database] if self.database else []),
            *self.extra_args,
        ]

    def start(self, timeout: float = START_TIMEOUT) -> "FleetkeyServer":
        if not os.path.isfile(dll_path()):
            raise ServerStartError(
                f"{dll_path()} not found: build with `dotnet build Fleetkey.slnx -c Release` "
                f"at {REPO_ROOT} or set FLEETKEY_DLL")
        if self.database is None and (self.store or store()) == "postgres" and "--database" not in self.extra_args:
            self.database = create_database()
            self.owns_database = True
        self.port = free_port()
        self.device_port = free_port()
        if self.mqtt:
            self.mqtt_port = free_port()
        env = dict(os.environ)
        if self.root_keys:
            env["FLEETKEY_ROOT_ACCESS_KEY_ID"] = self.access_key_id
            env["FLEETKEY_ROOT_SECRET_ACCESS_KEY"] = self.secret_access_key
        else:
            env.pop("FLEETKEY_ROOT_ACCESS_KEY_ID", None)
            env.pop("FLEETKEY_ROOT_SECRET_ACCESS_KEY", None)
        env.pop("FLEETKEY_CA_PASSPHRASE", None)
        env.update(self.extra_env)
        env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
        env.setdefault("DOTNET_NOLOGO", "1")
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n=== {' '.join(self.command())}\n".encode())
        self._log_file.flush()
        self.proc = subprocess.Popen(
            self.command(), cwd=self.cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"fleetkey serve exited with {self.proc.returncode} before /health answered 200\n"
                    + self.log_tail())
            if self.tls and not os.path.exists(self.ca_bundle):
                last_error = "no ca.pem yet"
                time.sleep(0.2)
                continue
            try:
                with urllib.request.urlopen(self.endpoint + "/health", timeout=2, context=self.ssl_context()) as r:
                    if r.status == 200:
                        return self
                    last_error = f"HTTP {r.status}"
            except urllib.error.HTTPError as e:
                last_error = f"HTTP {e.code}"
            except OSError as e:
                last_error = str(e)
            time.sleep(0.2)
        self.kill()
        raise ServerStartError(
            f"GET /health did not answer 200 within {timeout:.0f}s (last: {last_error})\n" + self.log_tail())

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait; returns the exit code, or None if it had to be killed."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        rc = self.proc.returncode
        self._close_log()
        return rc

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no server log)"
        tail = text.splitlines()[-lines:]
        return f"--- last {len(tail)} lines of {self.log_path} ---\n" + "\n".join(tail) + "\n--- end of server log ---"

    def generated_credentials(self) -> tuple[str, str]:
        """Reads DIR/credentials ([default] in the AWS shared-credentials format)."""
        cp = configparser.ConfigParser()
        with open(os.path.join(self.cwd, self.data_dir, "credentials")) as f:
            cp.read_file(f)
        return cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"]

    def cleanup(self) -> None:
        """Kills the process if still running; removes the data dir, database and log unless FLEETKEY_KEEP_DATA."""
        self.kill()
        if os.environ.get("FLEETKEY_KEEP_DATA"):
            return
        if self.owns_database:
            drop_database(self.database)
            self.owns_database = False
        if self.owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        try:
            os.remove(self.log_path)
        except OSError:
            pass


class ExternalServer:
    """An already running server named by FLEETKEY_ENDPOINT."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self.access_key_id = os.environ.get("FLEETKEY_ACCESS_KEY_ID") or os.environ.get("AWS_ACCESS_KEY_ID")
        self.secret_access_key = (os.environ.get("FLEETKEY_SECRET_ACCESS_KEY")
                                  or os.environ.get("AWS_SECRET_ACCESS_KEY"))
        if not self.access_key_id or not self.secret_access_key:
            raise ServerStartError("FLEETKEY_ENDPOINT is set but FLEETKEY_ACCESS_KEY_ID/"
                                   "FLEETKEY_SECRET_ACCESS_KEY are not")
        self.log_path = None

    def log_tail(self, lines: int = 60) -> str:
        return "(external server: no log)"

    def running(self) -> bool:
        return True


# Signatures of the raw requests sent by this run; the shutdown check asserts none of them
# reached the server log (design §5: never log a full SigV4 signature).
SIGNATURES_SENT: list[str] = []
# Secrets the server handed out (enrollment group keys, device secrets): none may appear in its log.
SECRETS_SEEN: list[str] = []

_shared = None
_shared_error: Exception | None = None


def shared():
    """The server shared by every test of this run, started on first use."""
    global _shared, _shared_error
    if _shared is not None:
        return _shared
    if _shared_error is not None:
        raise ServerStartError(f"shared server failed to start earlier: {_shared_error}")
    try:
        if os.environ.get("FLEETKEY_ENDPOINT"):
            _shared = ExternalServer(os.environ["FLEETKEY_ENDPOINT"])
        else:
            server = FleetkeyServer(log_name="shared")
            try:
                server.start()
            except Exception:
                sys.stderr.write(server.log_tail() + "\n")
                raise
            _shared = server
            atexit.register(_atexit_stop)
    except Exception as e:
        _shared_error = e
        raise
    return _shared


def shared_started() -> bool:
    return isinstance(_shared, FleetkeyServer)


def stop_shared(timeout: float = STOP_TIMEOUT) -> int | None:
    """Stops the shared server (SIGTERM) and returns its exit code (None = had to be killed)."""
    if not isinstance(_shared, FleetkeyServer):
        return None
    return _shared.stop(timeout)


def _atexit_stop() -> None:
    if isinstance(_shared, FleetkeyServer):
        _shared.stop()
        _shared.cleanup()


# --------------------------------------------------------------------------- clients

def start_mqtt_server(log_name: str):
    """A private server with the MQTT broker (EC device keys), its boto3 client, a temporary folder and
    the CA chain devices trust saved there: (server, client, folder, ca_path). Stop with server.cleanup()."""
    server = FleetkeyServer(log_name=log_name, mqtt=True, extra_args=["--device-key-algorithm", "ec-p256"])
    server.start()
    folder = tempfile.mkdtemp(prefix=f"fleetkey-{log_name}-")
    ca = os.path.join(folder, "ca.pem")
    with urllib.request.urlopen(server.endpoint + "/ca.pem", timeout=10) as r, open(ca, "wb") as f:
        f.write(r.read())
    return server, make_client(server), folder, ca


def make_client(server=None, access_key_id=None, secret_access_key=None, region=REGION,
                validate=True):
    import boto3
    from botocore.config import Config
    server = server or shared()
    return boto3.client(
        "iot",
        endpoint_url=server.endpoint,
        verify=server.ca_bundle if getattr(server, "tls", False) else None,
        region_name=region,
        aws_access_key_id=access_key_id or server.access_key_id,
        aws_secret_access_key=secret_access_key or server.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                      parameter_validation=validate,
                      connect_timeout=10, read_timeout=60),
    )


_clients: dict = {}


def client(validate: bool = True):
    """A cached boto3 IoT client for the shared server (retries off)."""
    key = ("shared", validate)
    if key not in _clients:
        _clients[key] = make_client(validate=validate)
    return _clients[key]


def unique(tag: str) -> str:
    """A name unique to this run and call: `<run>-<tag>-<random>` (valid thing/group/type name)."""
    return f"c{RUN_ID}-{tag}-{uuid.uuid4().hex[:8]}"


def signed_request(method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                   server=None, access_key_id=None, secret_access_key=None, region=REGION,
                   sign: bool = True, at=None, expect_continue: bool = False):
    """Sends a raw (optionally SigV4-signed) request with urllib.

    Returns (status, headers (lower-cased keys), body bytes). `at` signs with a fixed
    naive-UTC datetime instead of now (to test clock skew). `expect_continue` sends the headers with
    `Expect: 100-continue` and the body only if the server asks for it, as curl does for large bodies:
    a server that refuses a body unread answers at once instead of closing on a client still writing.
    """
    import unittest.mock
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    server = server or shared()
    url = server.endpoint + path
    hdrs = dict(headers or {})
    if body is not None:
        hdrs.setdefault("Content-Type", "application/json")
    if sign:
        req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
        creds = Credentials(access_key_id or server.access_key_id, secret_access_key or server.secret_access_key)
        if at is not None:
            with unittest.mock.patch("botocore.auth.get_current_datetime", return_value=at):
                SigV4Auth(creds, "iot", region).add_auth(req)
        else:
            SigV4Auth(creds, "iot", region).add_auth(req)
        hdrs = dict(req.headers.items())
        auth = hdrs.get("Authorization", "")
        if "Signature=" in auth:
            SIGNATURES_SENT.append(auth.rsplit("Signature=", 1)[1])
    if expect_continue:
        return _expect_continue_request(method, server.endpoint, path, body or b"", hdrs)
    r = urllib.request.Request(url, data=body, method=method, headers=hdrs)
    context = server.ssl_context() if getattr(server, "tls", False) else None
    try:
        with urllib.request.urlopen(r, timeout=30, context=context) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def _expect_continue_request(method: str, endpoint: str, path: str, body: bytes, headers: dict):
    import http.client
    import io
    import socket
    host, port = endpoint.split("://", 1)[1].rsplit(":", 1)
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    for k, v in {**headers, "Content-Length": str(len(body)), "Expect": "100-continue", "Connection": "close"}.items():
        if k.lower() != "host":
            head += f"{k}: {v}\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n")
        raw = b""
        while b"\r\n\r\n" not in raw and (chunk := sock.recv(65536)):
            raw += chunk
        if raw.startswith(b"HTTP/1.1 100"):
            raw = raw[raw.index(b"\r\n\r\n") + 4:]
            sock.sendall(body)
        while chunk := sock.recv(65536):
            raw += chunk

    class Recorded:  # what the server sent, for http.client to parse (Connection: close: it ends at EOF)
        def makefile(self, mode):
            return io.BytesIO(raw)

    resp = http.client.HTTPResponse(Recorded(), method=method)
    resp.begin()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
