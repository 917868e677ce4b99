"""`kiosk config`: operator keys, signing and pushing config bundles, applying one, and the kiosk's config status.

keygen, sign, rotate-keys and push run on an operator's machine and need no
kiosk config; apply and status act on this kiosk (its --config and data dir), status
--remote on another over its management API, with a request signed by an operator key.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json

ENV_OPERATOR, ENV_OPERATOR_SECRET = "KIOSK_OPERATOR_ID", "KIOSK_OPERATOR_SECRET"
FLEET_PATH = "/api/v1/fleet/config"
MANAGEMENT_PATH = "/api/v1/config"


def register(sub) -> None:
    p = sub.add_parser("config", help=_t("signed config bundles: keys, sign, push, apply, status"),
                       description=_t("Operator keys and signed config bundles (docs/operators.md)."))
    p.set_defaults(handler=lambda ctx: (p.print_help(), EXIT_USAGE)[1], needs_config=False)
    cs = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND", title=_t("sub-commands"))

    q = cs.add_parser("keygen", help=_t("make an operator key pair: DIR/operator.key (secret) and DIR/operator.pub"))
    q.add_argument("--out", required=True, metavar="DIR", help=_t("folder for the key pair (created if missing)"))
    q.add_argument("--name", default="operator", help=_t("file name of the pair (default operator)"))
    add_json(q)
    q.set_defaults(handler=run_keygen, needs_config=False)

    q = cs.add_parser("sign", help=_t("sign a bundle source (TOML, DESIGN.md section 9) into a signed envelope"))
    q.add_argument("file", metavar="FILE", help=_t("the bundle source, TOML"))
    q.add_argument("--key", required=True, action="append", metavar="KEY",
                   help=_t("operator private key (from keygen); repeat when kiosks need several signatures"))
    q.add_argument("--out", required=True, metavar="SIGNED", help=_t("where to write the signed bundle (JSON)"))
    q.add_argument("--rotation", action="append", default=[], metavar="FILE",
                   help=_t("a signed key rotation to carry along, so kiosks that missed it follow it first; repeatable, "
                           "oldest first"))
    add_json(q)
    q.set_defaults(handler=run_sign, needs_config=False)

    q = cs.add_parser("rotate-keys", help=_t("sign a key rotation: the new trusted key set, signed by the current keys"))
    q.add_argument("--key", required=True, action="append", metavar="KEY",
                   help=_t("a CURRENT trusted private key; repeat if kiosks need several signatures"))
    q.add_argument("--new-key", required=True, action="append", metavar="PUB",
                   help=_t("a public key of the new trusted set; repeatable"))
    q.add_argument("--generation", required=True, type=int, metavar="N",
                   help=_t("1 for the first rotation, then one more than the last"))
    q.add_argument("--threshold", type=int, default=1, metavar="N",
                   help=_t("signatures the new set requires on a bundle (default 1)"))
    q.add_argument("--out", required=True, metavar="FILE", help=_t("where to write the signed rotation (JSON)"))
    add_json(q)
    q.set_defaults(handler=run_rotate, needs_config=False)

    q = cs.add_parser("push", help=_t("send a signed bundle to a kiosk's management API or to the central platform"))
    q.add_argument("file", metavar="SIGNED")
    q.add_argument("--to", required=True, metavar="URL",
                   help=_t("a kiosk (http://HOST:8701) or the central platform (http://HOST:8700{path}; "
                           "a bare central URL works when --operator is given)").format(path=FLEET_PATH))
    q.add_argument("--operator", metavar="ID", default=os.environ.get(ENV_OPERATOR),
                   help=_t("operator id at the central platform (else ${variable})").format(variable=ENV_OPERATOR))
    q.add_argument("--operator-secret", metavar="S", default=os.environ.get(ENV_OPERATOR_SECRET),
                   help=_t("its secret from `kiosk central add-operator` (else ${variable})").format(
                       variable=ENV_OPERATOR_SECRET))
    q.add_argument("--timeout", type=float, default=30.0, metavar="S", help=_t("seconds to wait for the answer"))
    add_json(q)
    q.set_defaults(handler=run_push, needs_config=False)

    q = cs.add_parser("apply", help=_t("verify and apply a signed bundle from a file (exit 1 with the reason when refused)"))
    q.add_argument("file", metavar="SIGNED")
    add_json(q)
    q.set_defaults(handler=run_apply)

    q = cs.add_parser("check", help=_t("validate the config without starting anything; exit 2 naming each problem, "
                                       "the demo hall's values included unless [kiosk] demo = true"))
    add_json(q)
    q.set_defaults(handler=run_check)

    q = cs.add_parser("status", help=_t("the applied config version, its digest, the last outcome and rejection "
                                        "(of this kiosk, or of another over its management API with --remote)"))
    q.add_argument("--remote", metavar="URL", help=_t("a kiosk's management API (http://KIOSK:8701); the request is "
                                                      "signed with --key"))
    q.add_argument("--key", metavar="KEY", help=_t("with --remote: a trusted operator's private key"))
    q.add_argument("--timeout", type=float, default=10.0, metavar="S", help=_t("with --remote: seconds to wait"))
    add_json(q)
    q.set_defaults(handler=run_status, needs_config=False)  # with --remote no kiosk config is needed

    q = cs.add_parser("reset-time", help=_t("reset the expiry time mark to this kiosk's clock (raises an alarm)"),
                      description=_t("The latest trustworthy time this kiosk has seen never goes back; if a wrong "
                                     "clock once pushed it far ahead, every bundle is refused as expired. This puts "
                                     "it back to the kiosk's clock (check the clock first) and raises the alarm "
                                     "config:time_mark_reset, cleared by the next applied bundle."))
    add_json(q)
    q.set_defaults(handler=run_reset_time)


def _fail(ctx, code: int, message: str, **doc) -> int:
    if ctx.json:
        print(json.dumps({"ok": False, "error": message, **doc}, ensure_ascii=False))
    print(f"kiosk config: {message}", file=sys.stderr)
    return code


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- keys and signing ----------------------------------------------------------------------------

def run_keygen(ctx) -> int:
    from kiosk.wire.bundle import BundleError, write_keypair

    try:
        priv, pub, kid = write_keypair(Path(ctx.args.out), ctx.args.name)
    except BundleError as exc:
        return _fail(ctx, EXIT_FAILED, exc.reason)
    except OSError as exc:
        return _fail(ctx, EXIT_FAILED, _t("{path}: cannot write the key pair: {reason}").format(
            path=ctx.args.out, reason=exc.strerror))
    doc = {"private_key": str(priv), "public_key": str(pub), "keyid": kid}
    ctx.emit(doc, _t("private key {private} (keep it secret, never on a kiosk)\npublic key  {public} "
                     "(copy it to each kiosk and list it in [management] trusted_keys)\nkey id      {keyid}").format(
                         private=priv, public=pub, keyid=kid))
    return EXIT_OK


def _private_keys(ctx, paths):
    from kiosk.wire.bundle import BundleError, load_private_key
    keys = []
    for p in paths:
        try:
            keys.append(load_private_key(Path(p)))
        except BundleError as exc:
            return None, _fail(ctx, EXIT_USAGE, exc.reason)
    return keys, None


def _write_out(ctx, path: str, data: bytes) -> int | None:
    from kiosk.durable import write_atomic
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, data)
    except OSError as exc:
        return _fail(ctx, EXIT_FAILED, _t("{path}: cannot write: {reason}").format(path=out, reason=exc.strerror))
    return None


def _schema_check(ctx, settings_doc: dict) -> str | None:
    """The bundle's settings merged over the config this machine has (--config), validated; None when fine.
    Each kiosk checks again against its own kiosk.toml."""
    from kiosk import config
    try:
        local_path = config.config_path(ctx.args.config)
        local_doc = config.read_document(local_path)
        config.parse(local_doc, local_path)
    except config.ConfigError:
        print(_t("kiosk config sign: note: no usable kiosk config here; settings were checked for remote keys only "
                 "(each kiosk validates them against its own kiosk.toml)"), file=sys.stderr)
        return None
    try:
        config.parse(config.merged(local_doc, settings_doc), local_path, where=f"{ctx.args.file}: settings")
    except config.ConfigError as exc:
        return str(exc)
    return None


def run_sign(ctx) -> int:
    from kiosk.wire import bundle
    from kiosk.sync.config_apply import local_only_keys

    args = ctx.args
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(ctx, EXIT_USAGE, _t("{path}: cannot read the bundle source: {reason}").format(
            path=args.file, reason=exc))
    keys, err = _private_keys(ctx, args.key)
    if err is not None:
        return err
    try:
        payload, doc = bundle.payload_from_source(text, now=_now(), where=args.file)
    except bundle.BundleError as exc:
        return _fail(ctx, EXIT_FAILED, exc.reason)
    bad = local_only_keys(doc["settings"])
    if bad:
        return _fail(ctx, EXIT_FAILED, _t("{path}: {keys}: not changeable remotely (device wiring, identity and "
                                          "secrets stay in each kiosk's kiosk.toml)").format(
                                              path=args.file, keys=', '.join('settings.' + b for b in bad)))
    problem = _schema_check(ctx, doc["settings"])
    if problem:
        return _fail(ctx, EXIT_FAILED, problem)
    rotations = []
    for r in args.rotation:
        try:
            env = bundle.parse_envelope(Path(r).read_bytes())
        except OSError as exc:
            return _fail(ctx, EXIT_USAGE, _t("{path}: cannot read: {reason}").format(path=r, reason=exc.strerror))
        except bundle.BundleError as exc:
            return _fail(ctx, EXIT_FAILED, f"{r}: {exc.reason}")
        if env.payload_type != bundle.ROTATE_TYPE:
            return _fail(ctx, EXIT_FAILED, _t("{path}: not a key rotation (made by `kiosk config rotate-keys`)").format(
                path=r))
        rotations.append(env)
    env = bundle.sign(bundle.CONFIG_TYPE, payload, keys, rotations=rotations,
                      hints={"version": doc["version"], "targets": doc["targets"]})
    data = env.to_bytes()
    if len(data) > bundle.MAX_ENVELOPE_BYTES:
        return _fail(ctx, EXIT_FAILED, _t("the signed bundle would be {size} bytes; kiosks take at most {most}").format(
            size=len(data), most=bundle.MAX_ENVELOPE_BYTES))
    err = _write_out(ctx, args.out, data)
    if err is not None:
        return err
    out = {"out": args.out, "version": doc["version"], "sha256": env.sha256, "targets": doc["targets"],
           "issued": doc["issued"], "expires": doc["expires"], "keyids": [k for k, _ in env.signatures],
           "rotations": len(rotations)}
    ctx.emit(out, _t("signed bundle version {version} for {targets} -> {path}\nsha256 {sha256}\nexpires {expires}").format(
        version=doc['version'], targets=', '.join(doc['targets']), path=args.out, sha256=env.sha256,
        expires=doc['expires']))
    return EXIT_OK


def run_rotate(ctx) -> int:
    from kiosk.wire import bundle

    args = ctx.args
    keys, err = _private_keys(ctx, args.key)
    if err is not None:
        return err
    new = []
    for p in args.new_key:
        try:
            new.append(bundle.load_public_key(Path(p)))
        except bundle.BundleError as exc:
            return _fail(ctx, EXIT_USAGE, exc.reason)
    try:
        payload = bundle.rotation_payload(args.generation, new, threshold=args.threshold, now=_now())
    except bundle.BundleError as exc:
        return _fail(ctx, EXIT_USAGE, _t("{problem} (--generation is 1 or more; --threshold at most the "
                                         "number of --new-key)").format(problem=exc.reason))
    env = bundle.sign(bundle.ROTATE_TYPE, payload, keys)
    err = _write_out(ctx, args.out, env.to_bytes())
    if err is not None:
        return err
    doc = {"out": args.out, "generation": args.generation, "threshold": args.threshold,
           "keyids": [bundle.keyid(k) for k in new], "signed_by": [k for k, _ in env.signatures],
           "sha256": env.sha256}
    ctx.emit(doc, _t("key rotation generation {generation} -> {path}\nnew trusted keys: {keys}\nsend it to kiosks "
                     "with `kiosk config push` or `kiosk config apply`, or carry it in the next bundle with "
                     "`kiosk config sign --rotation`").format(generation=args.generation, path=args.out,
                                                              keys=', '.join(k[:16] for k in doc['keyids'])))
    return EXIT_OK


# -- pushing -------------------------------------------------------------------------------------

def destination(url: str, operator: bool) -> tuple[str, str, str]:
    """(kind, full URL, path) for --to: an explicit path decides; a bare URL is the central platform's
    fleet endpoint when operator credentials are given, else a kiosk's management API."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(_t("--to {url!r}: expected http(s)://HOST:PORT[/path]").format(url=url))
    path = parts.path.rstrip("/")
    if path.endswith("/fleet/config"):
        kind = "fleet"
    elif path:
        kind = "kiosk"
    else:
        kind = "fleet" if operator else "kiosk"
        path = FLEET_PATH if kind == "fleet" else MANAGEMENT_PATH
    return kind, urlunsplit((parts.scheme, parts.netloc, path, "", "")), path


def _request(ctx, method: str, url: str, **kw):
    """(the response, its JSON answer), or (None, the exit status) after saying why `url` was not reached."""
    import requests

    try:
        resp = requests.request(method, url, allow_redirects=False, **kw)
    except requests.Timeout:
        return None, _fail(ctx, EXIT_FAILED, _t("{url}: no answer within {timeout} s (--timeout); is the "
                                                "address right and the service up?").format(
                                                    url=url, timeout=kw.get('timeout')))
    except requests.RequestException as exc:
        from kiosk.sync.client import unreached_reason

        return None, _fail(ctx, EXIT_FAILED, _t("{url}: cannot be reached: {reason}; is the address "
                                                "right and the service up?").format(
                                                    url=url, reason=unreached_reason(exc)))
    try:
        return resp, resp.json()
    except ValueError:
        return resp, {"message": resp.text[:300]}


def _is_toml(body: bytes) -> bool:
    import tomllib

    try:
        return bool(tomllib.loads(body.decode("utf-8")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def run_push(ctx) -> int:
    from kiosk.wire import bundle
    from kiosk.wire import auth

    args = ctx.args
    try:
        with open(args.file, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > bundle.MAX_ENVELOPE_BYTES:
                return _fail(ctx, EXIT_FAILED, _t("{path}: {size} bytes; kiosks take at most {most}").format(
                    path=args.file, size=size, most=bundle.MAX_ENVELOPE_BYTES))
            body = f.read()
    except OSError as exc:
        return _fail(ctx, EXIT_USAGE, _t("{path}: cannot read: {reason}").format(path=args.file, reason=exc.strerror))
    try:
        env = bundle.parse_envelope(body)
    except bundle.BundleError as exc:
        if _is_toml(body):   # the bundle source itself, not yet signed
            return _fail(ctx, EXIT_USAGE, _t("{path}: this is a bundle source (TOML), not a signed bundle; sign "
                                             "it first: kiosk config sign {path} --key KEY --out SIGNED.json, "
                                             "then push SIGNED.json").format(path=args.file))
        return _fail(ctx, EXIT_FAILED, f"{args.file}: {exc.reason}")
    try:
        kind, url, path = destination(args.to, bool(args.operator))
    except ValueError as exc:
        return _fail(ctx, EXIT_USAGE, str(exc))
    headers = {"Content-Type": "application/json"}
    if kind == "fleet":
        if env.payload_type != bundle.CONFIG_TYPE:
            return _fail(ctx, EXIT_USAGE, _t("the central platform distributes config bundles; carry this key "
                                             "rotation in the next bundle with `kiosk config sign --rotation FILE`"))
        if not (args.operator and args.operator_secret):
            return _fail(ctx, EXIT_USAGE, _t("pushing to the central platform needs --operator and --operator-secret "
                                             "(or ${id_variable} and ${secret_variable}) from "
                                             "`kiosk central add-operator`").format(
                                                 id_variable=ENV_OPERATOR, secret_variable=ENV_OPERATOR_SECRET))
        headers.update(auth.sign(args.operator_secret, "PUT", path, args.operator, body, operator=True))
        method = "PUT"
    else:
        method = "POST"
    resp, answer = _request(ctx, method, url, data=body, headers=headers, timeout=args.timeout)
    if resp is None:
        return answer
    doc = {"to": url, "kind": kind, "status": resp.status_code, "answer": answer}
    if kind == "fleet":
        ok = resp.status_code == 200
        text = _t("stored at the central platform as version {version} for {targets}; kiosks pick it up on their "
                  "next config poll").format(version=answer.get('version'),
                                             targets=', '.join(answer.get('targets') or [])) if ok else \
            _t("the central platform refused it ({status}): {reason}").format(
                status=resp.status_code, reason=answer.get('message') or answer)
    else:
        ok = resp.status_code == 200 and answer.get("result") in ("applied", "unchanged", "rotated")
        text = (_t("kiosk: {result} (version {version})").format(result=answer.get('result'),
                                                                  version=answer.get('version')) if ok else
                _t("kiosk refused it ({status}): {result} {code}: {reason}").format(
                    status=resp.status_code, result=answer.get('result', ''), code=answer.get('code', ''),
                    reason=answer.get('reason') or answer.get('message') or answer))
    doc["ok"] = ok
    ctx.emit(doc, text)
    return EXIT_OK if ok else EXIT_FAILED


# -- this kiosk ----------------------------------------------------------------------------------

def run_check(ctx) -> int:
    """The config loaded (a bad key or value stops the command line itself with exit 2, naming file, key and
    problem), then the demo hall's values: problems outside a demo hall, a note inside one."""
    from kiosk.provisioning import demo_values

    settings = ctx.settings
    found = demo_values(settings)
    demo = settings.kiosk.demo
    ok = demo or not found
    doc = {"ok": ok, "config": str(settings.source), "demo": demo,
           "demo_values": [{"key": v.key, "problem": v.problem} for v in found]}
    if ok:
        text = (_t("{file}: valid; a demo hall ([kiosk] demo = true): {n} demo value(s) allowed") if demo else
                _t("{file}: valid")).format(file=settings.source, n=len(found))
        ctx.emit(doc, text)
        return EXIT_OK
    if ctx.json:
        ctx.emit(doc, "")
    for v in found:   # file, key and problem, as a bad config is told
        print(f"kiosk config check: {settings.source}: {v.key}: {v.problem}", file=sys.stderr)
    print(_t("kiosk config check: {n} demo value(s) in {file} and [kiosk] demo is not true; "
             "`kiosk provision` writes each (docs/deploy.md)").format(n=len(found), file=settings.source),
          file=sys.stderr)
    return EXIT_USAGE


def run_apply(ctx) -> int:
    from kiosk.sync.config_apply import ConfigApplier

    path = Path(ctx.args.file)
    if not path.is_file():
        return _fail(ctx, EXIT_USAGE, _t("{path}: no such file").format(path=path))
    outcome = ConfigApplier(ctx.settings).apply_file(path)
    ctx.emit(outcome.as_dict(), outcome.text())
    return EXIT_OK if outcome.ok else EXIT_FAILED


def run_reset_time(ctx) -> int:
    from kiosk.sync.config_apply import ConfigApplier

    try:
        doc = ConfigApplier(ctx.settings).reset_time()
    except OSError as exc:
        return _fail(ctx, EXIT_FAILED, _t("the time mark could not be written ({reason}); "
                                          "free space in the data dir and try again").format(
                                              reason=exc.strerror or exc))
    ctx.emit(doc, lambda d: _t("expiry time mark reset from {previous} ({source}) to the local clock {now}; "
                               "alarm {alarm} raised").format(previous=d['previous'] or _t('none'),
                                                              source=d['previous_source'] or '-',
                                                              now=d['high_water'], alarm=d['alarm']))
    return EXIT_OK


def _before(a: str | None, b: str | None) -> bool:
    """True when timestamp `a` is earlier than `b` (ISO 8601); False when either is missing or unreadable."""
    try:
        return bool(a and b) and datetime.fromisoformat(a) < datetime.fromisoformat(b)
    except (TypeError, ValueError):
        return False


def status_text(doc: dict) -> str:
    lines = [_t("config version {version} ({digest})").format(
                 version=doc['version'] or 0, digest=_t('kiosk.toml alone') if not doc['version'] else doc['sha256'][:16]),
             _t("state {state}").format(state=doc['state'])]
    if doc.get("applied_at"):
        lines.append(_t("applied at {at}, expires {expires}").format(at=doc['applied_at'], expires=doc['expires']))
    rej = doc.get("last_rejection")
    if rej:
        said = _t("version {version} from {source}: {code}: {reason}").format(
            version=rej.get('version') or '?', source=rej.get('source'), code=rej.get('code'), reason=rej.get('reason'))
        if _before(rej.get("at"), doc.get("applied_at")):   # history, not the state: the applied one is newer
            lines.append(_t("earlier, before the version applied now, refused at {at}: {what}").format(
                at=rej.get('at'), what=said))
        else:
            lines.append(_t("last refused at {at}: {what}").format(at=rej.get('at'), what=said))
    trust = doc.get("trust") or {}
    lines.append(_t("trusted keys (generation {generation}, {threshold} needed): {keys}").format(
        generation=trust.get('generation'), threshold=trust.get('threshold'),
        keys=', '.join(k[:16] for k in trust.get('keyids', [])) or _t('NONE: no bundle can be applied')))
    if doc.get("time_high_water"):
        lines.append(_t("latest time seen {at} ({source})").format(at=doc['time_high_water'],
                                                                  source=doc['time_high_water_source']))
    return "\n".join(lines)


def run_status(ctx) -> int:
    from kiosk.sync.config_apply import status

    if ctx.args.remote:
        return run_remote_status(ctx)
    if ctx.args.key:
        return _fail(ctx, EXIT_USAGE, _t("--key goes with --remote URL (this kiosk's own status needs no key)"))
    ctx.emit(status(ctx.settings), status_text)
    return EXIT_OK


def run_remote_status(ctx) -> int:
    """A kiosk's config status over its management API, read with a request signed by an operator key."""
    from kiosk.sync import operator_auth

    args = ctx.args
    if not args.key:
        return _fail(ctx, EXIT_USAGE, _t("--remote needs --key KEY: the management API answers only requests signed "
                                         "by an operator key the kiosk trusts"))
    parts = urlsplit(args.remote)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _fail(ctx, EXIT_USAGE, _t("--remote {url!r}: expected http(s)://HOST:PORT").format(url=args.remote))
    keys, err = _private_keys(ctx, [args.key])
    if err is not None:
        return err
    url = urlunsplit((parts.scheme, parts.netloc, MANAGEMENT_PATH, "", ""))
    headers = operator_auth.sign_request(keys[0], "GET", MANAGEMENT_PATH)
    resp, doc = _request(ctx, "GET", url, headers=headers, timeout=args.timeout)
    if resp is None:
        return doc
    if resp.status_code != 200:
        return _fail(ctx, EXIT_FAILED, _t("{url}: refused ({status}): {code}: {reason}").format(
            url=url, status=resp.status_code, code=doc.get('code', ''),
            reason=doc.get('reason') or doc.get('message') or doc))
    ctx.emit(doc, status_text)
    return EXIT_OK
