"""Captures the requests a real botocore `iot` client sends, for the signing vectors embedded in the C# tests.

Imported by tests/Fleetkey.Api.Tests/Authentication/botocore_iot_vectors.py and
tests/Fleetkey.Client.Tests/Signing/botocore_client_vectors.py (both run by hand). Each request is
built by botocore's serializer and SigV4Auth at a fixed clock and captured at `before-send`,
exactly as it would go on the wire; nothing is sent.
"""
import datetime

import botocore.auth
import botocore.session

ENDPOINT = "http://127.0.0.1:5080"


class _Captured(Exception):
    pass


def freeze_clock(now: datetime.datetime) -> None:
    """Makes SigV4Auth sign at `now` (naive UTC, as botocore's clock returns it)."""
    botocore.auth.get_current_datetime = lambda remove_tzinfo=True: now


def capture(call, region: str, access_key: str, secret_key: str):
    """Runs call(client) and returns (request, path, query, body bytes) of what it would send."""
    client = botocore.session.get_session().create_client(
        "iot", region_name=region, endpoint_url=ENDPOINT,
        aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    seen = {}

    def before_send(request, **kwargs):
        seen["request"] = request
        raise _Captured()

    client.meta.events.register("before-send.iot", before_send)
    try:
        call(client)
    except _Captured:
        pass
    request = seen["request"]
    path, _, query = request.url[len(ENDPOINT):].partition("?")
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return request, path, query, body
