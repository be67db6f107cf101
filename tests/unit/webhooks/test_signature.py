"""The v3 signature check against HubSpot's documented algorithm, with the official SDK's implementation
(`hubspot.utils.signature.Signature`) as the independent reference for the hash itself."""

from __future__ import annotations

from hubspot.utils.signature import Signature

from hubsync.secret import Secret
from hubsync.webhooks.signature import Verdict, check, signature_v3, signed_uri

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://hubsync.example.com/webhooks/hubspot"
BODY = (
    b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","appId":54321}]'
)
NOW_MS = 1_764_460_800_000
WINDOW_MS = 300_000


def _check(
    signature: str | None,
    *,
    secret: str = SECRET,
    uri: str = URI,
    body: bytes = BODY,
    timestamp: str | None = str(NOW_MS),
    now_ms: int = NOW_MS,
) -> Verdict:
    return check(
        Secret(secret),
        method="POST",
        uri=uri,
        body=body,
        timestamp=timestamp,
        signature=signature,
        now_ms=now_ms,
        window_ms=WINDOW_MS,
    )


def _sdk(uri: str = URI, timestamp: str = str(NOW_MS), body: bytes = BODY) -> str:
    # The SDK implements method + URI + body + timestamp, HMAC-SHA256, base64 (without the URI decoding step).
    return str(Signature.get_signature(SECRET, body.decode(), "v3", uri, "POST", timestamp))


def test_signature_equals_the_official_sdks() -> None:
    assert signature_v3(SECRET, method="POST", uri=URI, body=BODY, timestamp=str(NOW_MS)) == _sdk()


def test_a_valid_signature_passes() -> None:
    assert _check(_sdk()) is Verdict.OK


def test_a_signature_made_with_another_secret_fails() -> None:
    wrong = signature_v3("another-secret", method="POST", uri=URI, body=BODY, timestamp=str(NOW_MS))
    assert _check(wrong) is Verdict.BAD_SIGNATURE


def test_a_tampered_body_fails() -> None:
    tampered = BODY.replace(b'"objectId":123', b'"objectId":124')
    assert _check(_sdk(), body=tampered) is Verdict.BAD_SIGNATURE


def test_another_uri_or_timestamp_fails() -> None:
    assert _check(_sdk(), uri=URI + "?x=1") is Verdict.BAD_SIGNATURE
    # The timestamp is signed too: moving it (within the window) breaks the signature.
    assert _check(_sdk(), timestamp=str(NOW_MS - 1000)) is Verdict.BAD_SIGNATURE


def test_a_stale_or_future_timestamp_fails_even_when_signed() -> None:
    old = str(NOW_MS - WINDOW_MS - 1)
    assert _check(_sdk(timestamp=old), timestamp=old) is Verdict.STALE
    future = str(NOW_MS + WINDOW_MS + 1)
    assert _check(_sdk(timestamp=future), timestamp=future) is Verdict.STALE
    edge = str(NOW_MS - WINDOW_MS)
    assert _check(_sdk(timestamp=edge), timestamp=edge) is Verdict.OK


def test_missing_or_unusable_headers_fail() -> None:
    assert _check(None) is Verdict.MISSING
    assert _check("") is Verdict.MISSING
    assert _check(_sdk(), timestamp=None) is Verdict.MISSING
    assert _check(_sdk(), timestamp="17644608e5") is Verdict.MISSING
    assert _check("not base64 at all ünïcode") is Verdict.BAD_SIGNATURE


def test_the_uri_is_signed_with_hubspots_twelve_escapes_decoded() -> None:
    raw = "https://h.example/hook%3Aa%2Fb%3Fc%40d%21e%24f%27g%28h%29i%2Aj%2Ck%3Bl?q=%2a%3b%20x"
    # Decoded: the twelve listed escapes, in either case; every other escape (here %20) stays as sent.
    assert signed_uri(raw) == "https://h.example/hook:a/b?c@d!e$f'g(h)i*j,k;l?q=*;%20x"
    assert _check(_sdk(uri=signed_uri(raw)), uri=raw) is Verdict.OK
    assert _check(_sdk(uri=raw), uri=raw) is Verdict.BAD_SIGNATURE
