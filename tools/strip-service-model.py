#!/usr/bin/env python3
"""Writes the AWS IoT service model that Fleetkey embeds, from the botocore copy on this machine.

Documentation strings are dropped (they are most of the file); everything the wire format and the
validation need (operations, http bindings, shapes and their constraints, error status codes) is
kept verbatim. The model is Apache-2.0, (c) Amazon.com, Inc., as shipped in botocore.

    python3 tools/strip-service-model.py > src/Fleetkey.Api/Wire/iot-2015-05-28.json
"""
import gzip, json, os, sys
import botocore

path = os.path.join(os.path.dirname(botocore.__file__), "data/iot/2015-05-28/service-2.json.gz")
model = json.load(gzip.open(path))

def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in ("documentation", "documentationUrl", "deprecatedMessage")}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node

out = {
    "source": f"botocore {botocore.__version__} data/iot/2015-05-28/service-2.json.gz (Apache-2.0), documentation removed",
    "metadata": model["metadata"],
    "operations": strip(model["operations"]),
    "shapes": strip(model["shapes"]),
}
json.dump(out, sys.stdout, separators=(",", ":"), sort_keys=True)
sys.stdout.write("\n")
