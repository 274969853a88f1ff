"""Prints the botocore-signed requests that ClientSigningTests compares IotClient's requests with.

Run once by hand (python3 botocore_client_vectors.py); its values are embedded in
BotocoreClientVectors.cs, each next to the same call through IIotClient. The C# tests never run Python. Each request is made by a real botocore
`iot` client (serializer + SigV4Auth) at a fixed time and captured at `before-send`, exactly as it
would go on the wire. The cases are the bindings a client can get wrong: labels holding ':' and '/'
(ARNs), query strings with spaces and slashes, booleans and numbers in the query, the
x-amzn-principal header, and JSON bodies.
"""
import base64
import json
import os
import sys

import botocore

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../tools"))
import botocore_capture  # noqa: E402

ACCESS_KEY = "AKIAFLEETKEYCLIENT01"
SECRET_KEY = "cLiEnT/Secret+Example0123456789abcdEFGH"
REGION = "eu-west-1"
CERT_ARN = "arn:aws:iot:eu-west-1:000000000000:cert/" + "ab" * 32

botocore_capture.freeze_clock(botocore_capture.datetime.datetime(2025, 6, 1, 8, 30, 15))


def capture(call):
    request, path, query, body = botocore_capture.capture(call, REGION, ACCESS_KEY, SECRET_KEY)
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    return {
        "method": request.method,
        "path": path,
        "query": query,
        "principal": headers.get("x-amzn-principal"),
        "body": base64.b64encode(body).decode(),
        "authorization": headers["authorization"],
    }


cases = {
    "ListThings": lambda c: c.list_things(attributeName="color", attributeValue="a b/c", maxResults=10, usePrefixAttributeValue=True),
    "DescribeThing": lambda c: c.describe_thing(thingName="thing:1"),
    "DeleteThing": lambda c: c.delete_thing(thingName="old-thing", expectedVersion=3),
    "AttachThingPrincipal": lambda c: c.attach_thing_principal(thingName="thing-7", principal=CERT_ARN),
    "ListPrincipalThings": lambda c: c.list_principal_things(principal=CERT_ARN, maxResults=5),
    "ListAttachedPolicies": lambda c: c.list_attached_policies(target=CERT_ARN, recursive=False, pageSize=2),
    "UpdateCertificate": lambda c: c.update_certificate(certificateId="cd" * 32, newStatus="INACTIVE"),
    "CreateKeysAndCertificate": lambda c: c.create_keys_and_certificate(setAsActive=True),
    "CreateThing": lambda c: c.create_thing(thingName="thing:1", thingTypeName="NewDevice",
                                            attributePayload={"attributes": {"serial": "SN 001/\u03b1"}}),
    "RegisterThing": lambda c: c.register_thing(templateBody='{"Resources":{}}', parameters={"ThingName": "SN-1"}),
}

print(f"// botocore {botocore.__version__}")
print(json.dumps({name: capture(call) for name, call in cases.items()}, indent=2, ensure_ascii=False))
