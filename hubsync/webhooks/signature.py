"""HubSpot's v3 request signature (docs/hubspot.md, "Webhooks"); pure: the time and the secret are arguments.

HubSpot signs every webhook request: `X-HubSpot-Signature-v3` is base64(HMAC-SHA256(app secret, method + URI +
body + timestamp)), the four concatenated as UTF-8, and `X-HubSpot-Request-Timestamp` is that timestamp (epoch
milliseconds). The URI is the full one HubSpot called, scheme, host, path and query, with twelve percent-escapes
decoded first (`signed_uri`): HubSpot's documentation lists them, and its own SDKs hash the URI in that form.
A request older than the window (five minutes in HubSpot's documentation) is refused even with a good signature,
so a captured request cannot be replayed later; one as far in the future is refused too (a clock gone wrong).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from enum import StrEnum
from typing import Final

from hubsync.secret import Secret

SIGNATURE_HEADER: Final = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER: Final = "X-HubSpot-Request-Timestamp"

# The escapes HubSpot decodes in the URI before it signs it; every other escape stays as it is.
_DECODED: Final = {
    "3A": ":",
    "2F": "/",
    "3F": "?",
    "40": "@",
    "21": "!",
    "24": "$",
    "27": "'",
    "28": "(",
    "29": ")",
    "2A": "*",
    "2C": ",",
    "3B": ";",
}
_ESCAPE: Final = re.compile(r"%(" + "|".join(_DECODED) + r")", re.IGNORECASE)


class Verdict(StrEnum):
    OK = "ok"
    # No signature or no usable timestamp header.
    MISSING = "missing"
    STALE = "stale"
    BAD_SIGNATURE = "bad_signature"


def signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it: its twelve listed escapes decoded (`%3A` → `:`, …, in either case)."""
    return _ESCAPE.sub(lambda m: _DECODED[m.group(1).upper()], uri)


def signature_v3(secret: str, *, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The value of `X-HubSpot-Signature-v3` for a request (the URI as received; it is normalised here)."""
    message = method.upper().encode() + signed_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def check(
    secret: Secret,
    *,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now_ms: int,
    window_ms: int,
) -> Verdict:
    """Whether the request is HubSpot's and recent: the timestamp first, then the signature (in constant time)."""
    if not signature or not timestamp or not timestamp.isdigit():
        return Verdict.MISSING
    if abs(now_ms - int(timestamp)) > window_ms:
        return Verdict.STALE
    expected = signature_v3(secret.reveal(), method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii", "replace")):
        return Verdict.BAD_SIGNATURE
    return Verdict.OK
