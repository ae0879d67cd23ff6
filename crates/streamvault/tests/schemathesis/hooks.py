"""schemathesis hooks for streamvault's contract run (loaded through `hooks` in schemathesis.toml)."""

import schemathesis
from schemathesis.transport.serialization import serialize_binary


# tus sends an upload's bytes as `application/offset+octet-stream` (tus 1.0, PATCH and
# creation-with-upload): raw bytes, as `application/octet-stream`.
@schemathesis.serializer("application/offset+octet-stream")
def tus_bytes(ctx, value):
    return {"data": serialize_binary(value)}
