"""Regenerates the botocore-signed vectors embedded in BotocoreIotVectors.cs.

Run once by hand (python3 botocore_iot_vectors.py); the C# tests never run Python. Each request is
built by a real botocore `iot` client (serializer + SigV4Auth), captured at `before-send` exactly as
it would go on the wire, and printed with the body as base64.
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../tools"))
import botocore_capture  # noqa: E402

ACCESS_KEY = "AKIAFLEETKEYTEST0001"
SECRET_KEY = "fLeEtKeY/Secret+Example0123456789abcdEFGH"

botocore_capture.freeze_clock(botocore_capture.datetime.datetime(2025, 3, 14, 15, 9, 26))


def capture(region, call):
    request, path, query, body = botocore_capture.capture(call, region, ACCESS_KEY, SECRET_KEY)
    headers = [["Host", "127.0.0.1:5080"]]
    headers += [[k, v.decode() if isinstance(v, bytes) else v] for k, v in request.headers.items()]
    return {
        "method": request.method,
        "path": path,
        "query": query,
        "headers": headers,
        "body": base64.b64encode(body).decode(),
    }


cases = {
    "ListThingsWithEncodedQuery": ("us-east-1", lambda c: c.list_things(
        attributeName="color", attributeValue="a b/c", maxResults=10)),
    "DescribeThingWithColonInLabel": ("eu-central-1", lambda c: c.describe_thing(thingName="thing:1")),
    "CreateThingWithJsonBody": ("eu-central-1", lambda c: c.create_thing(
        thingName="thing:1", attributePayload={"attributes": {"serial": "SN 001/\u03b1"}})),
    "DeleteThingWithQuery": ("us-east-1", lambda c: c.delete_thing(thingName="old-thing", expectedVersion=3)),
    "AttachThingPrincipalWithHeader": ("us-west-2", lambda c: c.attach_thing_principal(
        thingName="thing-7",
        principal="arn:aws:iot:us-west-2:000000000000:cert/" + "ab" * 32)),
    "UpdateCertificatePutWithQuery": ("us-west-2", lambda c: c.update_certificate(
        certificateId="cd" * 32, newStatus="INACTIVE")),
}

print(json.dumps({name: capture(region, call) for name, (region, call) in cases.items()}, indent=2, ensure_ascii=False))
