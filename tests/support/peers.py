"""Public HubSpot connectors run unmodified against a sandbox portal: Airbyte's `airbyte-source-hubspot` and Meltano's
`meltano-tap-hubspot`, each installed from PyPI into a venv of its own (`.cache/peers/`, gitignored).

Neither has an option for the API's address: both send every request to https://api.hubapi.com. `Redirect` is a
local HTTPS proxy that answers their `CONNECT api.hubapi.com:443` itself, terminates TLS with a certificate for
api.hubapi.com signed by a throwaway certificate authority made here (with the `openssl` command), and hands the
requests to the sandbox as plain HTTP. Both peers talk through `requests`, which honours `HTTPS_PROXY` from the
environment; the CA is added to the CA bundle of each peer's venv (`Peer.trust`; Airbyte's CDK sends through
`Session.send`, which ignores `REQUESTS_CA_BUNDLE`). That is the whole redirect: no line of theirs is patched.
hubsync, whose base URL is configurable, sends plain HTTP to the same proxy, so every connector's requests pass the
same hop and are counted alike (`Redirect.seen`).
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hubsync.sandbox import schema
from hubsync.sandbox.crm.answers import prop_value
from hubsync.sandbox.crm.pipelines import PIPELINES
from hubsync.sandbox.portal import EMAIL_EVENT_TYPES
from tests.support.paths import REPO

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal

PEERS_DIR = Path(os.environ.get("HUBSYNC_PEERS_DIR", str(REPO / ".cache" / "peers")))
HUBSPOT_HOST = "api.hubapi.com"


@dataclass(frozen=True)
class Peer:
    name: str
    requirement: str  # pinned: figures are only comparable between runs of the same version
    command: str  # its entry point in the venv's bin/

    @property
    def venv(self) -> Path:
        return PEERS_DIR / self.requirement.replace("==", "-")

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / self.command

    def installed(self) -> bool:
        return (self.venv / ".installed").exists()

    def install(self) -> None:
        """Create the venv and install the pinned package (a few minutes the first time, nothing after)."""
        if self.installed():
            return
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(self.venv)], check=True)  # noqa: S603  # fixed args
        pip = [str(self.venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        with (self.venv / "pip.log").open("w") as log:  # pip's notes on this machine's index setup are noise
            subprocess.run([*pip, self.requirement], check=True, stdout=log, stderr=log)  # noqa: S603  # pinned
        (self.venv / ".installed").write_text(self.requirement + "\n")

    def trust(self, ca: Path) -> None:
        """Add the redirect's certificate authority to the CA bundle of the peer's venv (certifi's), as one trusts
        a company proxy's CA."""
        where = [str(self.venv / "bin" / "python"), "-c", "import certifi; print(certifi.where())"]
        bundle = Path(subprocess.run(where, check=True, capture_output=True, text=True).stdout.strip())  # noqa: S603
        pem = ca.read_text()
        if pem not in bundle.read_text():
            with bundle.open("a") as out:
                out.write("\n# hubsync sandbox redirect (tests/support/peers.py)\n" + pem)


AIRBYTE = Peer("airbyte", "airbyte-source-hubspot==5.7.0", "source-hubspot")
MELTANO = Peer("meltano", "meltano-tap-hubspot==0.10.1", "tap-hubspot")
PEERS = (AIRBYTE, MELTANO)


# ---- the redirect ------------------------------------------------------------------------------------------------


def certificates(directory: Path = PEERS_DIR / "tls") -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for api.hubapi.com, its key), made once with `openssl`."""
    ca, cert, key = directory / "ca.pem", directory / "host.pem", directory / "host.key"
    if cert.exists() and key.exists() and ca.exists():
        return ca, cert, key
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, csr, ext = directory / "ca.key", directory / "host.csr", directory / "host.ext"
    ext.write_text(
        f"subjectAltName=DNS:{HUBSPOT_HOST}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    ca_args = ["-subj", "/CN=hubsync sandbox redirect CA", "-addext", "basicConstraints=critical,CA:TRUE"]
    ca_args += ["-addext", "keyUsage=critical,keyCertSign,cRLSign", "-days", "3650"]
    sign_args = ["-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "3650", "-extfile", ext]
    for args in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, *ca_args],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={HUBSPOT_HOST}"],
        ["x509", "-req", "-in", csr, *sign_args],
    ):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)  # noqa: S603, S607  # fixed
    return ca, cert, key


_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "upgrade"}
)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _ProxyServer
    _upstream: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the stdlib's parameter name
        del format, args

    def do_CONNECT(self) -> None:
        if self.path.split(":")[0] != HUBSPOT_HOST:
            self.send_error(403, "only api.hubapi.com is redirected")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        # From here on the same connection carries TLS; the requests inside it are served like any other.
        tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")
        self.close_connection = False

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(*self.server.target, timeout=300)
            self._upstream.request(self.command, self.path, body, headers)
            answer = self._upstream.getresponse()
            payload = answer.read()
        except (OSError, http.client.HTTPException):
            # The sandbox dropped the connection: so does the proxy, as HubSpot's edge would.
            self._upstream = None
            self.close_connection = True
            return
        self.server.seen[(self.command, self.path.split("?")[0], answer.status)] += 1
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("content-length", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward  # noqa: N815  # the stdlib's handler names


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: tuple[str, int], tls: ssl.SSLContext) -> None:
        self.target = target
        self.tls = tls
        self.seen: Counter[tuple[str, str, int]] = Counter()  # (method, path, status): what the peer asked
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class Redirect:
    """An HTTPS proxy on 127.0.0.1 that serves api.hubapi.com from the sandbox at `sandbox_url`."""

    def __init__(self, sandbox_url: str) -> None:
        host, _, port = sandbox_url.removeprefix("http://").partition(":")
        self.ca, cert, key = certificates()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server = _ProxyServer((host, int(port)), context)
        self._thread = threading.Thread(target=self._server.serve_forever, name="peer-redirect", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The proxy as a plain HTTP base URL: requests sent to it go to the sandbox as they are (hubsync's way in,
        so that every connector's requests pass the same hop and are counted alike)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """The environment a peer runs in: this machine's, with every request to HubSpot through the proxy (the
        peer's venv trusts the proxy's CA: `Peer.trust`)."""
        url = self.url
        drop = {"http_proxy", "https_proxy", "no_proxy", "all_proxy", "requests_ca_bundle", "curl_ca_bundle"}
        base = {k: v for k, v in os.environ.items() if k.lower() not in drop}
        return {**base, "HTTPS_PROXY": url, "https_proxy": url}

    def seen(self) -> Counter[tuple[str, str, int]]:
        return self._server.seen

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# ---- running a peer ----------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One command of a peer: what it printed, per stream, and how long it took."""

    command: str
    returncode: int
    seconds: float
    records: Counter[str] = field(default_factory=Counter)
    ids: dict[str, set[str]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    stderr: str = ""

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def errors(self) -> list[str]:
        """What went wrong, in the peer's words (Airbyte's error traces and failed streams, a failed exit)."""
        out: list[str] = []
        for trace in self.of_type("TRACE"):
            t = trace.get("trace", {})
            if t.get("type") == "ERROR":
                out.append(str(t.get("error", {}).get("message")))
            status = t.get("stream_status", {})
            if status.get("status") == "INCOMPLETE":
                out.append(f"stream {status.get('stream_descriptor', {}).get('name')} INCOMPLETE")
        if self.returncode != 0:
            out.append(f"exit {self.returncode}: {self.stderr.strip()[-2000:]}")
        return out


def run_peer(peer: Peer, args: list[str], env: dict[str, str], workdir: Path, timeout: float = 3600) -> Run:
    started = time.monotonic()
    out_path = workdir / f"{peer.name}-{args[0].lstrip('-')}.jsonl"
    with out_path.open("wb") as out:
        done = subprocess.run(  # noqa: S603  # the peer's own entry point, arguments of ours
            [str(peer.executable), *args],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env,
            cwd=workdir,
            timeout=timeout,
            check=False,
        )
    run = Run(" ".join(args), done.returncode, time.monotonic() - started, stderr=done.stderr.decode(errors="replace"))
    with out_path.open("rb") as lines:
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # a log line
            if not isinstance(message, dict):
                continue
            stream, record = _record(message)
            if stream is None:
                if message.get("type") != "RECORD":  # records are counted, not kept
                    run.messages.append(message)
                continue
            run.records[stream] += 1
            run.ids.setdefault(stream, set()).add(str(record.get("id", "")))
    return run


def _record(message: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    if message.get("type") != "RECORD":
        return None, {}
    if "record" in message and isinstance(message["record"], dict) and "stream" in message["record"]:
        inner = message["record"]  # Airbyte: {"type": "RECORD", "record": {"stream", "data"}}
        return str(inner["stream"]), inner.get("data") or {}
    return str(message.get("stream")), message.get("record") or {}  # Singer: {"type", "stream", "record"}


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


# ---- Airbyte -----------------------------------------------------------------------------------------------------


def airbyte_config(token: str) -> dict[str, Any]:
    return {"credentials": {"credentials_title": "Private App Credentials", "access_token": token}}


def airbyte_catalog(discovered: dict[str, Any], streams: list[str]) -> dict[str, Any]:
    """The configured catalog of `streams`: incremental where the stream offers it, else full refresh."""
    by_name = {s["name"]: s for s in discovered["streams"]}
    configured = []
    for name in streams:
        stream = by_name[name]
        incremental = "incremental" in stream.get("supported_sync_modes", [])
        entry: dict[str, Any] = {
            "stream": stream,
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append" if incremental else "overwrite",
        }
        if incremental:
            entry["cursor_field"] = stream.get("default_cursor_field") or []
        configured.append(entry)
    return {"streams": configured}


def airbyte_state(run: Run) -> list[dict[str, Any]]:
    """The state to resume from: the last state message of each stream of `run`."""
    last: dict[str, dict[str, Any]] = {}
    for message in run.of_type("STATE"):
        state = message["state"]
        name = state.get("stream", {}).get("stream_descriptor", {}).get("name", "")
        last[name] = state
    return list(last.values())


# ---- the truth -----------------------------------------------------------------------------------------------------


def _live(portal: Portal, object_type: str) -> int:
    return len(portal.stores[object_type].live)


def _with_history(portal: Portal, object_type: str) -> int:
    """Property values with a history entry, over the live records (the sandbox keeps one entry per value). Airbyte
    skips `hs_lastmodifieddate`'s history by design (it changes with every other property)."""
    names = [n for n in portal.catalogs[object_type].properties if n != "hs_lastmodifieddate"]
    store = portal.stores[object_type]
    return sum(1 for i in store.live for n in names if prop_value(object_type, store.by_id[i], n) is not None)


def _owners(portal: Portal, *, archived: bool) -> int:
    return sum(1 for o in portal.owners if o.archived == archived)


def airbyte_truth(portal: Portal) -> dict[str, int]:
    """Records each of Airbyte's streams must deliver from `portal` in a full read."""
    unsubscribe = EMAIL_EVENT_TYPES.index("STATUSCHANGE")
    return {
        "campaigns": len(portal.campaigns),
        "companies": _live(portal, schema.COMPANIES),
        "companies_property_history": _with_history(portal, schema.COMPANIES),
        "contact_lists": 0,
        "contacts": _live(portal, schema.CONTACTS),
        "contacts_property_history": _with_history(portal, schema.CONTACTS),
        "deal_pipelines": 1 if schema.DEALS in PIPELINES else 0,
        "deal_splits": _live(portal, schema.DEAL_SPLITS),
        "deals_archived": len(portal.stores[schema.DEALS].archived),
        "deals_property_history": _with_history(portal, schema.DEALS),
        "deals": _live(portal, schema.DEALS),
        "email_events": len(portal.email_events),
        "email_subscriptions": 1,
        "engagements": sum(_live(portal, t) for t in schema.ENGAGEMENT_TYPES),
        **{f"engagements_{t}": _live(portal, t) for t in schema.ENGAGEMENT_TYPES},
        "form_submissions": len(portal.form_submissions),
        "forms": sum(1 for f in portal.forms if not f.archived),
        "goals": _live(portal, schema.GOALS),
        "leads": _live(portal, schema.LEADS),
        "line_items": _live(portal, schema.LINE_ITEMS),
        "marketing_emails": len(portal.campaigns),
        "owners_archived": _owners(portal, archived=True),
        "owners": _owners(portal, archived=False),
        "products": _live(portal, schema.PRODUCTS),
        "subscription_changes": portal.email_events.col("type").count(unsubscribe),
        "ticket_pipelines": 1 if schema.TICKETS in PIPELINES else 0,
        "tickets": _live(portal, schema.TICKETS),
        "workflows": 0,
    }


# The object types whose property definitions Meltano's "properties" stream merges.
MELTANO_PROPERTY_TYPES = (
    schema.TICKETS,
    schema.DEALS,
    schema.CONTACTS,
    schema.COMPANIES,
    schema.PRODUCTS,
    schema.LINE_ITEMS,
    schema.EMAILS,
    schema.POSTAL_MAIL,
    schema.CALLS,
    schema.GOALS,
    schema.MEETINGS,
    schema.TASKS,
    schema.COMMUNICATIONS,
    schema.NOTES,
)


def meltano_truth(portal: Portal) -> dict[str, int]:
    """Records each of Meltano's streams must deliver from `portal`."""
    objects = (*schema.OBJECT_TYPES, *(t for t in schema.OTHER_TYPES if t != schema.DEAL_SPLITS))
    active = [o for o in portal.owners if not o.archived]
    return {
        **{t: _live(portal, t) for t in objects},
        "owners": len(active),
        "users": len(active),
        "teams": len({o.team for o in active}),
        "deal_pipelines": 1 if schema.DEALS in PIPELINES else 0,
        "ticket_pipelines": 1 if schema.TICKETS in PIPELINES else 0,
        "email_subscriptions": 1,
        "properties": sum(len(portal.catalogs[t].properties) for t in MELTANO_PROPERTY_TYPES),
    }


def mismatches(records: Counter[str], truth: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Streams whose record count differs from the truth: {stream: (read, truth)} (streams read but without a
    truth count too)."""
    return {
        s: (records.get(s, 0), truth.get(s, -1))
        for s in set(truth) | set(records)
        if records.get(s, 0) != truth.get(s, -1)
    }


# ---- requests by stream ----------------------------------------------------------------------------------------------

_GROUPS = (
    ("/crm/v4/associations/", "associations"),
    ("/crm/v3/properties/", "metadata"),
    ("/properties/v2/", "metadata"),
    ("/crm/v3/schemas", "metadata"),
    ("/crm/v3/owners", "owners"),
    ("/email/public/v1/events", "email_events"),
    ("/marketing/v3/forms", "forms"),
    ("/form-integrations/", "forms"),
    ("/marketing/v3/marketing-events", "marketing_events"),
    ("/events/v3/", "web_events"),
    ("/engagements/v1/", "engagements"),
    ("/email/public/v1/campaigns", "campaigns"),
    ("/marketing-emails/", "campaigns"),
    ("/email/public/v1/subscriptions", "subscriptions"),
    ("/crm/v3/pipelines/", "pipelines"),
    ("/crm-pipelines/", "pipelines"),
    ("/settings/v3/users", "users"),
    ("/crm/v3/lists/", "lists"),
    ("/automation/", "workflows"),
)


def stream_group(path: str) -> str:
    """The stream a request belongs to, the same for every connector: CRM objects by type (engagement objects all
    as "engagements"), then by API."""
    if path.startswith("/crm/v3/objects/"):
        raw = path.split("/")[4]
        t = schema.TYPE_ALIASES.get(raw, raw)
        return "engagements" if t in schema.ENGAGEMENT_TYPES else t
    return next((group for prefix, group in _GROUPS if path.startswith(prefix)), "other")


def requests_by_group(seen: Counter[tuple[str, str, int]], status: int | None = None) -> Counter[str]:
    """Requests per stream (`stream_group`), all of them or those answered with `status`."""
    out: Counter[str] = Counter()
    for (_, path, answered), n in seen.items():
        if status is None or answered == status:
            out[stream_group(path)] += n
    return out
