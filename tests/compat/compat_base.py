"""Shared base class and assertions for the boto3 compatibility tests."""

from __future__ import annotations

import datetime
import unittest

from botocore.exceptions import ClientError

import fleetkey_server as fk


class CompatTestCase(unittest.TestCase):
    """Gives each test the shared server's client and a name prefix unique to the test."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.server = fk.shared()
        cls.iot = fk.client()

    def setUp(self):
        # e.g. "c1a2b3c-creatething-5f0e2d1c": unique per run and per test, valid in every name shape.
        self.prefix = fk.unique(self._testMethodName.replace("test_", "").replace("_", "")[:24])

    def name(self, suffix: str = "") -> str:
        return f"{self.prefix}-{suffix}" if suffix else self.prefix

    def start_server(self, server: fk.FleetkeyServer, keys_from=None) -> fk.FleetkeyServer:
        """Starts a server of the test's own (stopped and removed after the test); with `keys_from`,
        it gets that server's root access key (nodes of one fleet, or a restart on its data)."""
        if keys_from is not None:
            server.access_key_id, server.secret_access_key = keys_from.access_key_id, keys_from.secret_access_key
        try:
            server.start()
        except fk.ServerStartError as e:
            self.fail(str(e))
        self.addCleanup(server.cleanup)
        return server

    # ------------------------------------------------------------------ assertions

    def assertClientError(self, fn, code: str, status: int, *args, **kwargs) -> ClientError:
        """Calls fn(*args, **kwargs) and asserts a ClientError with this code and HTTP status."""
        try:
            result = fn(*args, **kwargs)
        except ClientError as e:
            err = e.response.get("Error", {})
            meta = e.response.get("ResponseMetadata", {})
            self.assertEqual(
                (err.get("Code"), meta.get("HTTPStatusCode")), (code, status),
                f"expected {code} (HTTP {status}), got {err.get('Code')} (HTTP {meta.get('HTTPStatusCode')}): "
                f"{err.get('Message')!r}")
            return e
        self.fail(f"expected {code} (HTTP {status}), but the call succeeded: {result!r}")

    def assertClientErrorIn(self, fn, codes: dict, *args, **kwargs) -> ClientError:
        """Like assertClientError but accepts any of several {code: status} pairs."""
        try:
            result = fn(*args, **kwargs)
        except ClientError as e:
            got = (e.response["Error"].get("Code"), e.response["ResponseMetadata"].get("HTTPStatusCode"))
            self.assertIn(got, list(codes.items()),
                          f"expected one of {codes}, got {got}: {e.response['Error'].get('Message')!r}")
            return e
        self.fail(f"expected one of {codes}, but the call succeeded: {result!r}")

    def assertRecentDatetime(self, value, what: str = "timestamp", slack_seconds: float = 600):
        self.assertIsInstance(value, datetime.datetime, f"{what} should parse as a datetime, got {value!r}")
        self.assertIsNotNone(value.tzinfo, f"{what} should be timezone-aware (epoch seconds on the wire)")
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - value).total_seconds()), slack_seconds,
                        f"{what} {value.isoformat()} is not close to now {now.isoformat()}")

    def assertNoKeyOrEmpty(self, mapping: dict, key: str):
        value = mapping.get(key)
        self.assertIn(value, (None, [], {}), f"{key} should be absent or empty, got {value!r}")

    # ------------------------------------------------------------------ helpers

    def create_thing(self, name: str, attributes: dict | None = None, thing_type: str | None = None) -> dict:
        kwargs = {"thingName": name}
        if attributes is not None:
            kwargs["attributePayload"] = {"attributes": attributes}
        if thing_type is not None:
            kwargs["thingTypeName"] = thing_type
        return self.iot.create_thing(**kwargs)

    def create_type(self, name: str, description: str | None = None, searchable=None, tags=None) -> dict:
        props = {}
        if description is not None:
            props["thingTypeDescription"] = description
        if searchable is not None:
            props["searchableAttributes"] = searchable
        kwargs = {"thingTypeName": name}
        if props:
            kwargs["thingTypeProperties"] = props
        if tags:
            kwargs["tags"] = tags
        return self.iot.create_thing_type(**kwargs)

    def create_group(self, name: str, parent: str | None = None, description: str | None = None,
                     attributes: dict | None = None, tags=None) -> dict:
        kwargs = {"thingGroupName": name}
        if parent:
            kwargs["parentGroupName"] = parent
        props = {}
        if description is not None:
            props["thingGroupDescription"] = description
        if attributes is not None:
            props["attributePayload"] = {"attributes": attributes}
        if props:
            kwargs["thingGroupProperties"] = props
        if tags:
            kwargs["tags"] = tags
        return self.iot.create_thing_group(**kwargs)

    def all_pages(self, operation: str, key: str, **kwargs) -> list:
        out = []
        for page in self.iot.get_paginator(operation).paginate(**kwargs):
            out.extend(page.get(key, []))
        return out


def tags_dict(tags) -> dict:
    return {t["Key"]: t.get("Value") for t in (tags or [])}
