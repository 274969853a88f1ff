"""`fleetkey` as a user meets it in the first hour (issue 17): where the data directory is, what a
command does where there is no fleet, two servers on one directory, busy ports, the MQTT listener's
address. Real `fleetkey` processes; what they print on stderr is checked line by line: everything
bad is one line `fleetkey: …`, never a stack trace.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from compat_base import CompatTestCase
import fleetkey_server as fk

NO_STACK_TRACE = r"(?m)^\s+at |Unhandled exception"


def fleetkey(*args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_")}
    return subprocess.run(["dotnet", fk.dll_path(), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)


def listening_socket(host="127.0.0.1") -> socket.socket:
    """A port another program holds: bound and listening until closed."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen()
    return s


def connects(host, port) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


@unittest.skipIf(os.environ.get("FLEETKEY_ENDPOINT"), "uses its own server processes")
class FirstHourTests(CompatTestCase):

    @classmethod
    def setUpClass(cls):
        pass

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix="fleetkey-cli-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def assertOneLine(self, result, expected_line, code=2):
        """Exit `code`, and stderr exactly one line, `expected_line` (a string, or a regex when compiled)."""
        self.assertNotRegex(result.stderr, NO_STACK_TRACE, "a stack trace")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        if isinstance(expected_line, str):
            self.assertEqual(lines[0], expected_line)
        else:
            self.assertRegex(lines[0], expected_line)
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)

    # ------------------------------------------------------------------ 1. the data directory

    @unittest.skipIf(os.environ.get("FLEETKEY_DLL", fk.DEFAULT_DLL) != fk.DEFAULT_DLL, "dotnet run runs the project's own build")
    def test_dotnet_run_takes_a_relative_data_directory_from_where_it_was_typed(self):
        # Before: the Web SDK's `dotnet run` started the program in src/Fleetkey, so `--data rel` (and
        # ./fleetkey-data) was made there, while README's AWS_SHARED_CREDENTIALS_FILE=$PWD/... looked
        # where the command was typed.
        project = os.path.join(fk.REPO_ROOT, "src", "Fleetkey")
        name = f"rel-data-{fk.RUN_ID}"
        self.addCleanup(shutil.rmtree, os.path.join(project, name), True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETKEY_")}
        env.update(DOTNET_NOLOGO="1", DOTNET_CLI_TELEMETRY_OPTOUT="1")
        result = subprocess.run(["dotnet", "run", "--project", project, "-c", "Release", "--no-build", "--",
                                 "keys", "list", "--data", name],
                                cwd=self.work, capture_output=True, text=True, timeout=300, env=env)
        self.assertOneLine(result, f"fleetkey: no fleet at {os.path.join(self.work, name)} (run `fleetkey serve` first or pass --data)")
        self.assertFalse(os.path.exists(os.path.join(project, name)), "dotnet run ran in the project's folder")
        self.assertFalse(os.path.exists(os.path.join(self.work, name)))

    def test_commands_that_work_on_a_fleet_make_none(self):
        # Before: each of these made the directory, a database, a CA-less fleet and a root key, and exited 0.
        missing = os.path.join(self.work, "no-fleet")
        csv = os.path.join(self.work, "run.csv")
        with open(csv, "w") as f:
            f.write("SN-1\n")
        for args in (["keys", "list"], ["keys", "create"], ["keys", "delete", "AKIAEXAMPLE"],
                     ["export", os.path.join(self.work, "fleet.jsonl")],
                     ["enrollments", "list"], ["enrollments", "get", "SN-1"], ["enrollments", "delete", "SN-1"],
                     ["enrollments", "create", "SN-1", "--template", "t"],
                     ["enrollments", "group", "list"], ["enrollments", "group", "create", "g", "--template", "t"],
                     ["enrollments", "import", csv, "--template", "t"]):
            with self.subTest(command=" ".join(args[:2])):
                result = fleetkey(*args, "--data", "no-fleet", cwd=self.work)
                self.assertOneLine(result, f"fleetkey: no fleet at {missing} (run `fleetkey serve` first or pass --data)")
                self.assertFalse(os.path.exists(missing), f"{args} made {missing}")
                self.assertFalse(os.path.exists(os.path.join(self.work, "fleet.jsonl")))

        # An existing directory without a database is no fleet either, and gets nothing.
        os.mkdir(missing)
        result = fleetkey("keys", "create", "--data", missing)
        self.assertOneLine(result, f"fleetkey: no fleet at {missing} (run `fleetkey serve` first or pass --data)")
        self.assertEqual(os.listdir(missing), [])

    @unittest.skipIf(not os.environ.get("FLEETKEY_TEST_POSTGRES"), "FLEETKEY_TEST_POSTGRES is not set")
    def test_commands_that_work_on_a_fleet_refuse_an_empty_database_without_its_password(self):
        url = fk.create_database()
        self.addCleanup(fk.drop_database, url)
        # The test cluster trusts its clients: the password is never checked, only never printed.
        with_password = url.replace("postgres://fleetkey@", "postgres://fleetkey:hunter2-secret@", 1)
        self.assertIn("hunter2-secret", with_password)
        data = os.path.join(self.work, "node")
        for args in (["keys", "list"], ["export", "-"], ["enrollments", "list"]):
            with self.subTest(command=" ".join(args)):
                result = fleetkey(*args, "--data", data, "--database", with_password)
                self.assertOneLine(result, f"fleetkey: no fleet at {url} (run `fleetkey serve --database …` first or pass --database)")
                self.assertNotIn("hunter2", result.stdout + result.stderr)
                self.assertFalse(os.path.exists(data))
        self.assertEqual(fk.query_database(url, "SELECT to_regclass('schema_migrations') IS NULL"), "t", "the database got a schema")

        # Once migrated (or served) it is a fleet.
        self.assertEqual(fleetkey("migrate", "--database", with_password).returncode, 0)
        listed = fleetkey("keys", "list", "--data", data, "--database", with_password)
        self.assertEqual((listed.returncode, listed.stderr), (0, ""))

    def test_serve_names_the_data_directory_and_credentials_by_absolute_path(self):
        # Before: "its secret is in fleetkey-data/credentials", relative to a directory the log did not name.
        server = fk.FleetkeyServer(data_dir="fleetkey-data", root_keys=False, log_name="abs", cwd=self.work, store="sqlite")
        self.start_server(server)
        data = os.path.join(self.work, "fleetkey-data")
        self.assertTrue(os.path.isfile(os.path.join(data, "credentials")))
        self.assertEqual(server.stop(), 0)
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn(f"Data directory {data}, database {os.path.join(data, 'fleetkey.db')}", log)
        self.assertRegex(log, rf"its secret is in {os.path.join(data, 'credentials')} \(mode 0600\)")

    # ------------------------------------------------------------------ 2. one server per data directory

    @unittest.skipIf(fk.store() == "postgres", "the lock guards a SQLite data directory; nodes share a PostgreSQL database")
    def test_a_second_serve_on_the_same_data_directory_is_refused_naming_the_first(self):
        first = self.start_server(fk.FleetkeyServer(log_name="lock-first", store="sqlite"))
        second = fk.FleetkeyServer(data_dir=first.data_dir, log_name="lock-second", store="sqlite")
        self.addCleanup(second.cleanup)
        with self.assertRaises(fk.ServerStartError):
            second.start(timeout=60)
        self.assertEqual(second.proc.returncode, 2)
        with open(second.log_path, encoding="utf-8", errors="replace") as f:
            output = f.read().split("\n=== ", 1)[1].split("\n", 1)[1]
        self.assertEqual(output.splitlines(),
                         [f"fleetkey: the data directory {first.data_dir} is in use by process {first.proc.pid} (another fleetkey serve)"])
        self.assertTrue(first.running())

        # Commands safe beside a running server ignore the lock (README: keys "offline or while the
        # server runs", export "of a live one").
        listed = fleetkey("keys", "list", "--data", first.data_dir)
        self.assertEqual((listed.returncode, listed.stderr), (0, ""))
        self.assertIn(first.access_key_id, listed.stdout)
        exported = fleetkey("export", "--data", first.data_dir, os.path.join(self.work, "live.jsonl"))
        self.assertEqual(exported.returncode, 0, exported.stderr)
        # An import into it is refused: import fills an empty directory, one process at a time.
        imported = fleetkey("import", "--data", first.data_dir, os.path.join(self.work, "live.jsonl"))
        self.assertOneLine(imported, f"fleetkey: import refused, nothing was imported: the data directory {first.data_dir} "
                                     f"is in use by process {first.proc.pid} (a fleetkey serve)")

        # kill -9 leaves the files behind; the kernel dropped the lock, so they block nothing.
        first.kill()
        third = self.start_server(fk.FleetkeyServer(data_dir=first.data_dir, log_name="lock-third", store="sqlite"),
                                  keys_from=first)
        self.assertEqual(fk.make_client(third).list_things()["things"], [])
        self.assertEqual(third.stop(), 0)

    # ------------------------------------------------------------------ 3. busy ports

    def serve_on(self, data, http, device, mqtt, *extra):
        try:
            return fleetkey("serve", "--data", data, "--http", f"http://127.0.0.1:{http}", "--device-http", f"http://127.0.0.1:{device}",
                            "--mqtt-port", str(mqtt), "--public-host", fk.PUBLIC_HOST, *extra, timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("serve started although a port it needs is taken")

    def test_a_busy_port_stops_serve_with_one_line_naming_the_flag_and_creates_nothing(self):
        # Before: a busy --mqtt-port died with an unhandled SocketException naming no port, after making
        # the data directory; a busy --http printed two stack traces before its line.
        for flag in ("--http", "--device-http", "--mqtt-port"):
            with self.subTest(flag=flag):
                taken = listening_socket()
                self.addCleanup(taken.close)
                port = taken.getsockname()[1]
                ports = {"--http": fk.free_port(), "--device-http": fk.free_port(), "--mqtt-port": fk.free_port()}
                ports[flag] = port
                data = os.path.join(self.work, f"data{flag}")
                result = self.serve_on(data, ports["--http"], ports["--device-http"], ports["--mqtt-port"])
                given = f"--mqtt-port {port}" if flag == "--mqtt-port" else f"{flag} http://127.0.0.1:{port}"
                self.assertOneLine(result, f"fleetkey: {given}: address 127.0.0.1:{port} is already in use")
                self.assertFalse(os.path.exists(data), f"a busy {flag} left {data} behind")

    # ------------------------------------------------------------------ 4. the MQTT listener's address

    def test_mqtt_listens_on_loopback_unless_told_otherwise(self):
        # Before: the broker bound every interface while the HTTP listeners default to loopback. Any
        # 127.x address reaches this machine; only a listener on every interface answers on 127.0.0.2.
        default = self.start_server(fk.FleetkeyServer(log_name="mqtt-bind-default", mqtt=True))
        self.assertTrue(connects("127.0.0.1", default.mqtt_port))
        self.assertFalse(connects("127.0.0.2", default.mqtt_port), "the broker answers off 127.0.0.1")
        self.assertEqual(default.stop(), 0)
        with open(default.log_path, encoding="utf-8", errors="replace") as f:
            self.assertIn(f"MQTT broker listening on 127.0.0.1 port {default.mqtt_port}", f.read())

        everywhere = self.start_server(fk.FleetkeyServer(log_name="mqtt-bind-any", mqtt=True, extra_args=["--mqtt-bind", "0.0.0.0"]))
        self.assertTrue(connects("127.0.0.2", everywhere.mqtt_port))
        self.assertEqual(everywhere.stop(), 0)

    def test_mqtt_bind_that_is_no_address_or_not_this_machines_is_one_line(self):
        data = os.path.join(self.work, "data")
        for value, expected in (
                ("localhost", "fleetkey: --mqtt-bind must be an IPv4 or IPv6 address of this machine (0.0.0.0 or :: for every interface), not 'localhost'."),
                ("127.1", "fleetkey: --mqtt-bind must be an IPv4 or IPv6 address of this machine (0.0.0.0 or :: for every interface), not '127.1'."),
                ("192.0.2.7", None)):
            with self.subTest(value=value):
                mqtt = fk.free_port()
                result = self.serve_on(data, fk.free_port(), fk.free_port(), mqtt, "--mqtt-bind", value)
                self.assertOneLine(result, expected or f"fleetkey: --mqtt-port {mqtt}: address 192.0.2.7:{mqtt} is not an address of this machine")
                self.assertFalse(os.path.exists(data))


if __name__ == "__main__":
    unittest.main()
