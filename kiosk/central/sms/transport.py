"""How the HTTP gateways reach a server: https only (plain http to this machine's loopback alone), no
redirects followed, an answer read up to a bound, and every failure of the transport turned into a
`SendError` that says whether to try again.

Retrying after a timeout or a connection dropped mid-answer may deliver a message twice: the request may
have reached the vendor. Neither Tencent Cloud nor Alibaba Cloud de-duplicates sends (both say so); the
message id travels with each send (SessionContext, OutId, Idempotency-Key) so receipts can be matched.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from kiosk import __version__
from kiosk.central.sms.base import GatewaySettingsError, SendError

MAX_ANSWER = 64 * 1024  # a gateway's answer is a few hundred bytes; a larger one is cut, not buffered whole
USER_AGENT = f"kiosk-central-sms/{__version__}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(url: str, key: str) -> str:
    """`url` when it is https, or http to loopback; GatewaySettingsError naming `key` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise GatewaySettingsError(f"[notify] {key} = {url!r} is not an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise GatewaySettingsError(f"[notify] {key} has a user or password in it: put the secret in its own key, "
                                   "never in a URL (URLs reach log lines)")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise GatewaySettingsError(f"[notify] {key} = {url!r}: plain http is allowed only to this machine "
                                   "(127.0.0.1, ::1, localhost); use https:// so that numbers and pickup codes "
                                   "travel encrypted")
    return url


def host_header(url: str) -> str:
    """The Host header requests sends for `url` (the port only when it is not the scheme's default)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def post(session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """One POST; the answer whatever its status. Raises SendError when no answer came."""
    headers = {"User-Agent": USER_AGENT, **headers}
    try:
        with session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False,
                          stream=True) as r:
            data = bytearray()
            for chunk in r.iter_content(8192):
                data += chunk
                if len(data) > MAX_ANSWER:
                    break
            return Answer(r.status_code, bytes(data[:MAX_ANSWER]))
    except requests.Timeout:
        raise SendError("timeout", retryable=True) from None
    except requests.exceptions.SSLError:
        raise SendError("tls_error", retryable=True) from None  # an expired or wrong certificate there: theirs to fix
    except requests.ConnectionError:
        raise SendError("connection_error", retryable=True) from None
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
        raise SendError("answer_broken", retryable=True) from None
    except requests.RequestException as exc:
        raise SendError(f"request_error:{type(exc).__name__}", retryable=False) from None


class Endpoint:
    """The URL a gateway posts to, checked, with its timeout and HTTP session."""

    def __init__(self, url: str, key: str, timeout_s: float, session: requests.Session | None = None):
        self.url = checked_url(url, key)
        self.host = host_header(self.url)
        self.timeout_s = timeout_s
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return repr(self.url)

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        return post(self.session, self.url, body, headers, self.timeout_s)


def status_error(status: int, prefix: str = "http") -> SendError | None:
    """None for 2xx. 408, 429 and 5xx may pass (retryable); any other status will not: 4xx is a refusal,
    3xx a URL that moved (redirects are not followed: set the final URL)."""
    if 200 <= status < 300:
        return None
    return SendError(f"{prefix}_{status}", retryable=status in (408, 429) or status >= 500)
