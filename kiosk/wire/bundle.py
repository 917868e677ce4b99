"""Signed envelopes of operator config bundles and key rotations: Ed25519 keys, signing, verification.

The envelope is JSON, in the manner of DSSE:

    {"payloadType": "application/vnd.kiosk.config+json;v=1",
     "payload":     base64 of the exact payload bytes,
     "signatures":  [{"keyid": sha256 hex of the raw public key, "sig": base64}],
     "version": 7, "targets": ["demo-hall-k01"],       unsigned routing hints
     "rotations": [envelope, ...]}                       optional, each signed on its own

Each signature covers PAE(payloadType, payload) =
`b"DSSEv1 " + len(type) + b" " + type + b" " + len(payload) + b" " + payload`
(lengths in ASCII decimal), so the type cannot be swapped under a payload and
the payload bytes are never re-serialised before they are checked. A kiosk
decodes the payload only after a trusted signature over those bytes verified.

`version` and `targets` at the top level repeat what the payload says, for the
central platform, which stores bundles as opaque bytes and routes them by
these hints without being able to verify anything. A kiosk never trusts them:
it reads version and targets from the verified payload only.

`rotations` carries the signed `rotate-keys` steps that lead from older trusted
key sets to the key that signed the bundle, so a kiosk that was offline during a
rotation still follows the chain (each step is verified against the set
before it; see kiosk/sync/config_apply.py).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CONFIG_TYPE = "application/vnd.kiosk.config+json;v=1"
ROTATE_TYPE = "application/vnd.kiosk.rotate-keys+json;v=1"
PAYLOAD_TYPES = (CONFIG_TYPE, ROTATE_TYPE)

# a real bundle is a few kilobytes; anything near this is a mistake or an attack
MAX_ENVELOPE_BYTES = 1024 * 1024
MAX_SIGNATURES = 16
MAX_ROTATIONS = 32
MAX_KEYS = 32

SOFTWARE_VERSION = re.compile(r"^\d+(\.\d+){0,3}$")
SOURCE_KEYS = {"version", "issued", "expires", "targets", "min_software", "settings"}


class BundleError(Exception):
    """A bundle or key that cannot be used: `code` for machines (snake case), the message for a person."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


# -- keys -------------------------------------------------------------------------------------

def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def keyid(key: Ed25519PublicKey) -> str:
    """sha256 hex of the 32 raw public key bytes: the same for a key however its file is written."""
    return hashlib.sha256(raw_public(key)).hexdigest()


def write_keypair(directory: Path, name: str = "operator") -> tuple[Path, Path, str]:
    """A new operator key pair as DIR/NAME.key (PKCS#8 PEM, mode 0600) and DIR/NAME.pub (PEM).
    Refuses to overwrite: losing a private key that kiosks trust is an outage."""
    directory.mkdir(parents=True, exist_ok=True)
    priv_path, pub_path = directory / f"{name}.key", directory / f"{name}.pub"
    for p in (priv_path, pub_path):
        if p.exists():
            raise BundleError("key_exists", f"{p} already exists; choose another --out folder "
                                            "(an existing key is never overwritten)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pub_path.write_bytes(pub)
    return priv_path, pub_path, keyid(key.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BundleError("key_unreadable", f"{path}: cannot read the private key: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise BundleError("key_invalid", f"{path}: not an unencrypted PEM private key ({exc}); "
                                         "make one with `kiosk config keygen --out DIR`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError("key_invalid", f"{path}: not an Ed25519 key; make one with `kiosk config keygen`")
    return key


def parse_public_key(data: bytes, where: str) -> Ed25519PublicKey:
    """A public key file: PEM (as `kiosk config keygen` writes) or an OpenSSH `ssh-ed25519` line."""
    text = data.strip()
    try:
        if text.startswith(b"ssh-ed25519 "):
            key = serialization.load_ssh_public_key(text)
        else:
            key = serialization.load_pem_public_key(text)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BundleError("key_invalid", f"{where}: not a PEM or ssh-ed25519 public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError("key_invalid", f"{where}: not an Ed25519 public key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise BundleError("key_missing", f"{path}: trusted key file not found") from None
    except OSError as exc:
        raise BundleError("key_unreadable", f"{path}: cannot read the key: {exc.strerror}") from None
    return parse_public_key(data, str(path))


def public_from_b64(text: Any, where: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError, TypeError):
        raise BundleError("malformed", f"{where}: not a base64 Ed25519 public key (32 bytes)") from None


@dataclass(frozen=True)
class TrustSet:
    """The operator keys a kiosk accepts, how many must sign, and which rotation made the set."""
    keys: dict[str, Ed25519PublicKey]
    threshold: int = 1
    generation: int = 0          # 0: the [management] trusted_keys files; n: the n-th rotation
    problems: tuple[str, ...] = ()  # key files that could not be read

    def describe(self) -> dict[str, Any]:
        return {"generation": self.generation, "threshold": self.threshold, "keyids": sorted(self.keys)}


# -- the envelope ----------------------------------------------------------------------------

def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[tuple[str, bytes], ...]
    rotations: tuple["Envelope", ...] = ()
    hints: dict[str, Any] = field(default_factory=dict)  # unsigned: never used for a decision

    @property
    def sha256(self) -> str:
        """The identity of the content: the payload bytes' digest (a re-signed payload is the same content)."""
        return hashlib.sha256(self.payload).hexdigest()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"payloadType": self.payload_type, "payload": b64(self.payload),
                               "signatures": [{"keyid": k, "sig": b64(s)} for k, s in self.signatures]}
        doc.update(self.hints)
        if self.rotations:
            doc["rotations"] = [r.to_json() for r in self.rotations]
        return doc

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n").encode()


def sign(payload_type: str, payload: bytes, keys: list[Ed25519PrivateKey], *,
         hints: dict[str, Any] | None = None, rotations: list[Envelope] | tuple = ()) -> Envelope:
    if payload_type not in PAYLOAD_TYPES:
        raise BundleError("unknown_type", f"unknown payload type {payload_type!r}")
    if not keys:
        raise BundleError("no_key", "at least one signing key is needed")
    message = pae(payload_type, payload)
    sigs = tuple((keyid(k.public_key()), k.sign(message)) for k in keys)
    return Envelope(payload_type, payload, sigs, tuple(rotations), dict(hints or {}))


def _decode_b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise BundleError("malformed", f"{where}: expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError("malformed", f"{where}: not valid base64") from None


def _envelope_from(doc: Any, where: str, depth: int) -> Envelope:
    if not isinstance(doc, dict):
        raise BundleError("malformed", f"{where}: expected a JSON object (a signed envelope)")
    ptype = doc.get("payloadType")
    if not isinstance(ptype, str):
        raise BundleError("malformed", f"{where}: payloadType is missing; is this a signed bundle "
                                       "(made by `kiosk config sign`) and not its TOML source?")
    payload = _decode_b64(doc.get("payload"), f"{where}.payload")
    sigs_doc = doc.get("signatures")
    if not isinstance(sigs_doc, list) or not sigs_doc:
        raise BundleError("malformed", f"{where}.signatures: expected a non-empty list")
    if len(sigs_doc) > MAX_SIGNATURES:
        raise BundleError("malformed", f"{where}.signatures: {len(sigs_doc)} signatures; at most {MAX_SIGNATURES}")
    sigs = []
    for i, s in enumerate(sigs_doc):
        if not isinstance(s, dict) or not isinstance(s.get("keyid"), str):
            raise BundleError("malformed", f"{where}.signatures[{i}]: expected {{\"keyid\", \"sig\"}}")
        sigs.append((s["keyid"], _decode_b64(s.get("sig"), f"{where}.signatures[{i}].sig")))
    rotations: list[Envelope] = []
    rot_doc = doc.get("rotations", [])
    if rot_doc:
        if depth > 0:
            raise BundleError("malformed", f"{where}.rotations: a rotation cannot carry rotations")
        if not isinstance(rot_doc, list) or len(rot_doc) > MAX_ROTATIONS:
            raise BundleError("malformed", f"{where}.rotations: expected a list of at most {MAX_ROTATIONS}")
        rotations = [_envelope_from(r, f"{where}.rotations[{i}]", depth + 1) for i, r in enumerate(rot_doc)]
    hints = {k: doc[k] for k in ("version", "targets") if k in doc}
    return Envelope(ptype, payload, tuple(sigs), tuple(rotations), hints)


MAX_JSON_DEPTH = 32  # an envelope is 4 levels deep, settings a few more


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (a signed bundle carries only finite numbers)")


def _depth_ok(doc: Any, depth: int = 0) -> bool:
    if depth > MAX_JSON_DEPTH:
        return False
    if isinstance(doc, dict):
        return all(_depth_ok(v, depth + 1) for v in doc.values())
    if isinstance(doc, list):
        return all(_depth_ok(v, depth + 1) for v in doc)
    return True


def strict_json(text: str) -> Any:
    """json.loads without NaN/Infinity and with a nesting bound; ValueError names the problem."""
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} deep") from None
    if not _depth_ok(doc):
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} deep")
    return doc


def parse_envelope(raw: bytes, limit: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """The envelope's structure, after the size check; the payload stays opaque bytes."""
    if len(raw) > limit:
        raise BundleError("too_large", f"{len(raw)} bytes; a signed bundle is at most {limit} bytes")
    try:
        doc = strict_json(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BundleError("malformed", "not UTF-8 text; a signed bundle is the JSON `kiosk config sign` writes") from None
    except ValueError as exc:
        raise BundleError("malformed", f"not valid JSON (truncated or damaged?): {exc}") from None
    return _envelope_from(doc, "envelope", 0)


def verify(env: Envelope, trust: TrustSet) -> list[str]:
    """The keyids of trusted keys whose signature over PAE(type, payload) verified; at least the
    set's threshold of them, else BundleError (`no_trusted_keys`, `unknown_key` or `bad_signature`)."""
    if not trust.keys:
        detail = "; ".join(trust.problems) or "[management] trusted_keys lists no key"
        raise BundleError("no_trusted_keys", f"this kiosk trusts no operator key ({detail}); "
                                             "add the operator's .pub file to [management] trusted_keys")
    message = pae(env.payload_type, env.payload)
    good: list[str] = []
    known = 0
    for kid, sig in env.signatures:
        key = trust.keys.get(kid)
        if key is None or kid in good:
            continue
        known += 1
        try:
            key.verify(sig, message)
        except InvalidSignature:
            continue
        good.append(kid)
    if len(good) >= trust.threshold:
        return good
    if known == 0:
        ids = ", ".join(k[:16] for k, _ in env.signatures)
        raise BundleError("unknown_key", f"signed by key(s) {ids} that this kiosk does not trust "
                                         f"(trusted: {', '.join(k[:16] for k in sorted(trust.keys))})")
    if good:
        raise BundleError("bad_signature", f"{len(good)} valid trusted signature(s); this kiosk needs "
                                           f"{trust.threshold}")
    raise BundleError("bad_signature", "the signature does not match the content (forged or altered bundle)")


# -- payloads (decoded only after verify) ----------------------------------------------------

def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BundleError("malformed", f"{where}: {value!r} is not an RFC 3339 time "
                                           "like 2027-01-31T00:00:00Z") from None
    else:
        raise BundleError("malformed", f"{where}: expected an RFC 3339 time like 2027-01-31T00:00:00Z")
    if dt.tzinfo is None:
        raise BundleError("malformed", f"{where}: needs a time zone (end it with Z or +08:00)")
    return dt


def software_tuple(text: str) -> tuple[int, ...]:
    m = re.match(r"^(\d+(?:\.\d+)*)", text)
    return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)


@dataclass(frozen=True)
class ConfigBundle:
    """A verified config payload."""
    version: int
    issued: datetime
    expires: datetime
    targets: tuple[str, ...]
    min_software: str | None
    settings: dict[str, Any]
    sha256: str
    keyids: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyRotation:
    """A verified rotate-keys payload: the key set that replaces the trusted one."""
    generation: int
    issued: datetime
    keys: dict[str, Ed25519PublicKey]
    threshold: int
    sha256: str


def _json_object(payload: bytes, what: str) -> dict[str, Any]:
    try:
        doc = strict_json(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError("malformed", f"{what} payload is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BundleError("malformed", f"{what} payload is not a JSON object")
    return doc


def _positive_int(doc: dict, key: str, what: str) -> int:
    v = doc.get(key)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise BundleError("malformed", f"{what}.{key}: expected a whole number of 1 or more, got {v!r}")
    return v


def decode_config(env: Envelope, keyids: list[str] = ()) -> ConfigBundle:
    if env.payload_type != CONFIG_TYPE:
        raise BundleError("unknown_type", f"payload type {env.payload_type!r} is not a config bundle")
    doc = _json_object(env.payload, "bundle")
    unknown = sorted(set(doc) - SOURCE_KEYS)
    if unknown:
        raise BundleError("malformed", f"bundle: unknown key(s) {', '.join(unknown)}")
    version = _positive_int(doc, "version", "bundle")
    targets = doc.get("targets")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) and t for t in targets):
        raise BundleError("malformed", "bundle.targets: expected a non-empty list of kiosk ids or group names")
    min_sw = doc.get("min_software")
    if min_sw is not None and not (isinstance(min_sw, str) and SOFTWARE_VERSION.match(min_sw)):
        raise BundleError("malformed", f"bundle.min_software: expected a version like 0.1.0, got {min_sw!r}")
    settings = doc.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(v, dict) for v in settings.values()):
        raise BundleError("malformed", "bundle.settings: expected tables like [settings.kiosk]")
    if "issued" not in doc:
        raise BundleError("malformed", "bundle.issued: missing (kiosk config sign adds it)")
    issued, expires = parse_time(doc["issued"], "bundle.issued"), parse_time(doc.get("expires"), "bundle.expires")
    return ConfigBundle(version, issued, expires, tuple(targets), min_sw, settings, env.sha256, tuple(keyids))


def decode_rotation(env: Envelope) -> KeyRotation:
    if env.payload_type != ROTATE_TYPE:
        raise BundleError("unknown_type", f"payload type {env.payload_type!r} is not a key rotation")
    doc = _json_object(env.payload, "rotation")
    unknown = sorted(set(doc) - {"generation", "issued", "keys", "threshold"})
    if unknown:
        raise BundleError("malformed", f"rotation: unknown key(s) {', '.join(unknown)}")
    generation = _positive_int(doc, "generation", "rotation")
    threshold = _positive_int(doc, "threshold", "rotation")
    keys_doc = doc.get("keys")
    if not isinstance(keys_doc, list) or not keys_doc or len(keys_doc) > MAX_KEYS:
        raise BundleError("malformed", f"rotation.keys: expected a list of 1 to {MAX_KEYS} keys")
    keys: dict[str, Ed25519PublicKey] = {}
    for i, k in enumerate(keys_doc):
        if not isinstance(k, dict):
            raise BundleError("malformed", f"rotation.keys[{i}]: expected {{\"keyid\", \"public_key\"}}")
        pub = public_from_b64(k.get("public_key"), f"rotation.keys[{i}].public_key")
        if k.get("keyid") != keyid(pub):
            raise BundleError("malformed", f"rotation.keys[{i}].keyid: does not match the key's sha256")
        keys[keyid(pub)] = pub
    if threshold > len(keys):
        raise BundleError("malformed", f"rotation.threshold: {threshold} signatures needed but only "
                                       f"{len(keys)} key(s) named")
    return KeyRotation(generation, parse_time(doc.get("issued"), "rotation.issued"), keys, threshold, env.sha256)


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# -- the operator's side ---------------------------------------------------------------------

def payload_from_source(text: str, *, now: datetime, where: str = "bundle") -> tuple[bytes, dict[str, Any]]:
    """The canonical JSON payload of a bundle source (DESIGN.md section 9) and the document itself.
    `issued` is added (the signer's clock) unless the source sets it."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BundleError("malformed", f"{where}: not valid TOML: {exc}") from None
    except RecursionError:
        raise BundleError("malformed", f"{where}: tables or arrays nested more than {MAX_JSON_DEPTH} deep") from None
    unknown = sorted(set(doc) - SOURCE_KEYS)
    if unknown:
        raise BundleError("malformed", f"{where}: unknown key(s) {', '.join(unknown)}; a bundle has "
                                       f"{', '.join(sorted(SOURCE_KEYS))}")
    if "expires" not in doc:
        raise BundleError("malformed", f"{where}: expires is missing (e.g. expires = \"2027-01-31T00:00:00Z\"); "
                                       "an old bundle must not stay usable for ever")
    out: dict[str, Any] = {"version": doc.get("version"), "targets": doc.get("targets"),
                           "issued": rfc3339(parse_time(doc["issued"], f"{where}: issued")) if "issued" in doc
                           else rfc3339(now),
                           "expires": rfc3339(parse_time(doc["expires"], f"{where}: expires")),
                           "settings": doc.get("settings", {})}
    if "min_software" in doc:
        out["min_software"] = doc["min_software"]
    payload = canonical(out)
    bundle = decode_config(Envelope(CONFIG_TYPE, payload, ()))  # the same checks a kiosk makes
    if bundle.expires <= now:
        raise BundleError("expired", f"{where}: expires {rfc3339(bundle.expires)} is already past")
    return payload, out


def rotation_payload(generation: int, keys: list[Ed25519PublicKey], *, threshold: int, now: datetime) -> bytes:
    doc = {"generation": generation, "issued": rfc3339(now), "threshold": threshold,
           "keys": [{"keyid": keyid(k), "public_key": b64(raw_public(k))} for k in keys]}
    payload = canonical(doc)
    decode_rotation(Envelope(ROTATE_TYPE, payload, ()))
    return payload


# -- authentication without side effects ------------------------------------------------------

def follow_rotations(rotations: tuple[Envelope, ...] | list[Envelope],
                     trust: TrustSet) -> tuple[TrustSet, list[KeyRotation]]:
    """The trust set after each attached rotation that the trust of its time verifies, in memory.
    Steps already followed or not signed by the keys of their time are skipped (the bundle's own
    signature then decides). Writes nothing: a caller that adopts the result pins it itself."""
    adopted: list[KeyRotation] = []
    for env in rotations:
        if env.payload_type != ROTATE_TYPE:
            raise BundleError("malformed", "envelope.rotations: holds something other than a key rotation")
        try:
            verify(env, trust)
            rot = decode_rotation(env)
        except BundleError:
            continue
        if rot.generation > trust.generation:
            trust = TrustSet(dict(rot.keys), rot.threshold, rot.generation)
            adopted.append(rot)
    return trust, adopted


@dataclass(frozen=True)
class Authenticated:
    """An envelope whose signatures verified against a kiosk's trust (after its attached rotations)."""
    envelope: Envelope
    trust: TrustSet
    keyids: tuple[str, ...]


def authenticate(env: Envelope, trust: TrustSet) -> Authenticated:
    """Is this envelope signed by keys the kiosk trusts (following its attached rotations)? Pure: it
    reads and writes nothing, so a network service can refuse a forged body before any disk write.
    BundleError `malformed`/`unknown_type` for a body that is no bundle, `no_trusted_keys`,
    `unknown_key` or `bad_signature` for one nobody trusted signed."""
    if env.payload_type not in PAYLOAD_TYPES:
        raise BundleError("unknown_type", f"payload type {env.payload_type!r} is neither a config bundle "
                                          "nor a key rotation")
    after, _ = follow_rotations(env.rotations, trust)
    return Authenticated(env, after, tuple(verify(env, after)))
