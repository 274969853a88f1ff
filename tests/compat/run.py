#!/usr/bin/env python3
"""Runs the boto3 compatibility suite against a real `fleetkey serve` process.

    python3 tests/compat/run.py [-k PATTERN] [-v|-q]

Discovers tests/compat/test_*.py, starts one shared server on first use, and at the end
stops it with SIGTERM and checks it exits 0 within 15 s (counted as one more test).
The last line is always `compat: N passed, N failed, N skipped`, after one line per reason tests
were skipped for (`compat: N skipped — REASON`, which test.sh repeats in its totals); the exit code is
non-zero when anything failed (errors count as failures).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fleetkey_server as fk  # noqa: E402


class SharedServerShutdown(unittest.TestCase):
    """Appended after every discovered test: the shared server exits 0 on SIGTERM within 15 s."""

    def test_1_sigterm_exits_zero_within_15s(self):
        if not fk.shared_started():
            self.skipTest("no shared server was started by this run")
        server = fk.shared()
        rc = fk.stop_shared(fk.STOP_TIMEOUT)
        self.assertIsNotNone(rc, f"did not exit within {fk.STOP_TIMEOUT:.0f}s of SIGTERM\n{server.log_tail()}")
        self.assertEqual(rc, 0, f"exit code {rc} after SIGTERM\n{server.log_tail()}")

    def test_2_log_holds_no_secret_or_signature(self):
        # Design §5: "Never log a private key, a secret or a full SigV4 signature." Runs after the
        # shutdown test, when the log is complete.
        if not fk.shared_started():
            self.skipTest("no shared server was started by this run")
        server = fk.shared()
        if server.running():
            fk.stop_shared(fk.STOP_TIMEOUT)
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertNotIn(server.secret_access_key, log, "the root secret access key appears in the server log")
        leaked = [sig for sig in fk.SIGNATURES_SENT if sig in log]
        self.assertEqual(leaked, [], f"{len(leaked)} request signatures appear in the server log")
        leaked = [secret for secret in fk.SECRETS_SEEN if secret in log]
        self.assertEqual(leaked, [], f"{len(leaked)} enrollment keys or device secrets appear in the server log")


class CountingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only run tests whose id contains this substring (repeatable)")
    parser.add_argument("-v", dest="verbosity", action="store_const", const=2, default=2)
    parser.add_argument("-q", dest="verbosity", action="store_const", const=1)
    args = parser.parse_args()

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = [f"*{p}*" for p in args.patterns]
    suite = loader.discover(start_dir=HERE, pattern="test_*.py", top_level_dir=HERE)
    shutdown = unittest.TestLoader().loadTestsFromTestCase(SharedServerShutdown)
    suite.addTest(shutdown)

    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=args.verbosity, resultclass=CountingResult)
    result = runner.run(suite)

    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.passed

    server = fk._shared
    if server is not None and getattr(server, "log_path", None):
        if failed:
            print(server.log_tail(80))
        print(f"shared server log: {server.log_path}")
        if isinstance(server, fk.FleetkeyServer):
            if server.running():
                server.stop()
            if not failed:
                server.cleanup()
            else:
                os.environ["FLEETKEY_KEEP_DATA"] = "1"  # keep it for the atexit cleanup too
                print(f"shared server data kept in {server.data_dir}")
    sys.stdout.flush()
    for reason, count in sorted(collections.Counter(reason for _, reason in result.skipped).items()):
        print(f"compat: {count} skipped — {reason}")
    print(f"compat: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
