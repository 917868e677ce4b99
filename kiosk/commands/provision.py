"""`kiosk provision`: the config of a kiosk that serves citizens, written from a technician's answers.

The template is the kiosk's current config when there is one, else the demo hall's (config/kiosk.toml):
its comments and every setting not asked about stay as they are. What is asked: the kiosk id and hall,
the platform's URL and this kiosk's secret (`kiosk central add-kiosk` on the platform), the deployment's
hash key (or a fresh one for a deployment's first kiosk), the notifier's key, the staff members and the
technician PIN (as hashes from `kiosk staff hash-pin`, or PINs typed at a prompt), and each device's port
(`NAME=PORT`, or `NAME=none` for a device this kiosk does not have; the udev names the rules give, such
as /dev/kiosk-idreader, are offered). For a fleet every answer is a flag; on a terminal, what no flag gave
is asked. The result is checked as `kiosk config check` checks it (no demo value may remain) before it
replaces the file, which is written 0640; nothing is written when it would not pass.
"""
from __future__ import annotations

import getpass
import glob
import grp
import json
import os
import re
import secrets
import sys
import tempfile
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json
from kiosk.config import DevicesSection
from kiosk.wire.enrolment import looks_like_token

DEFAULT_OUT = "/etc/kiosk/kiosk.toml"
# the secret in the config while it is checked, before an enrolment token fetches the real one
ENROLMENT_PENDING = "enrolment-pending-" + "0" * 32
KIOSK_GROUP = "kiosk"   # the services' group (the package's sysusers.d): it reads the config
DEVICES = tuple(DevicesSection.model_fields)   # the devices a config can have, as the config declares them
PORT_KEY = {"receipt_printer": "connection", "document_printer": "printer"}   # the others: `port`


def register(sub) -> None:
    p = sub.add_parser("provision", help=_t("write this kiosk's config from its answers (flags, or prompts on a "
                                            "terminal); refuses to leave any demo value"))
    p.add_argument("--out", default=DEFAULT_OUT, metavar="PATH", help=_t("the config to write ({path})").format(path=DEFAULT_OUT))
    p.add_argument("--template", metavar="PATH", help=_t("start from this config (default: --out when it exists, "
                                                         "else the demo hall's config/kiosk.toml)"))
    p.add_argument("--kiosk-id", metavar="ID", help=_t("unique per kiosk, e.g. hall-03-k07"))
    p.add_argument("--hall", metavar="NAME", help=_t("the hall's name, as citizens read it"))
    p.add_argument("--central-url", metavar="URL", help=_t("the platform, http(s)://HOST[:PORT]"))
    p.add_argument("--secret", metavar="S", help=_t("this kiosk's secret from `kiosk central add-kiosk ID`"))
    p.add_argument("--enrolment-token", metavar="TOKEN",
                   help=_t("instead of --secret: the one-time token from `kiosk central add-kiosk ID --enrolment-token`; "
                           "the kiosk fetches its secret from the platform with it, once everything else is checked"))
    p.add_argument("--hash-key", metavar="KEY", help=_t("the deployment's hash key (the same on every kiosk and the "
                                                        "platform), or `generate` for a deployment's first kiosk"))
    p.add_argument("--notice-key", metavar="KEY", help=_t("the platform notifier's key (`kiosk central notice-key`), "
                                                          "or `none`: pickup codes are then not texted"))
    p.add_argument("--staff", action="append", default=[], metavar="ID:HASH",
                   help=_t("a staff member and the hash of their PIN (`kiosk staff hash-pin`); repeatable"))
    p.add_argument("--technician-pin-hash", action="append", default=[], metavar="HASH",
                   help=_t("the hash of a technician PIN; repeatable"))
    p.add_argument("--device", action="append", default=[], metavar="NAME=PORT",
                   help=_t("a device's port ({devices}; the document printer's CUPS queue), or "
                           "NAME=none for a device this kiosk does not have; repeatable").format(devices=', '.join(DEVICES)))
    p.add_argument("--force", action="store_true", help=_t("replace an --out that is already provisioned"))
    add_json(p)
    p.set_defaults(handler=run, needs_config=False)


# -- editing the TOML text (comments and order kept) ------------------------------------------------

def _section_span(text: str, section: str) -> tuple[int, int] | None:
    m = re.search(rf"(?m)^\[{re.escape(section)}\][ \t]*(#.*)?$", text)
    if m is None:
        return None
    nxt = re.search(r"(?m)^\[", text[m.end():])
    return m.end(), (m.end() + nxt.start()) if nxt else len(text)


def set_key(text: str, section: str, key: str, value) -> str:
    """`key = value` in `[section]`: the line replaced (its comment kept), or added after the header."""
    span = _section_span(text, section)
    if span is None:
        return text.rstrip("\n") + f"\n\n[{section}]\n{key} = {_toml(value)}\n"
    start, end = span
    body = text[start:end]
    pattern = re.compile(rf"(?m)^{re.escape(key)}[ \t]*=[^\n#]*?([ \t]*#[^\n]*)?$")
    m = pattern.search(body)
    if m is None:
        body = f"\n{key} = {_toml(value)}" + body
    else:
        body = body[:m.start()] + f"{key} = {_toml(value)}" + (m.group(1) or "") + body[m.end():]
    return text[:start] + body + text[end:]


def drop_key(text: str, section: str, key: str) -> str:
    span = _section_span(text, section)
    if span is None:
        return text
    start, end = span
    body = re.sub(rf"(?m)^{re.escape(key)}[ \t]*=.*\n?", "", text[start:end])
    return text[:start] + body + text[end:]


def drop_section(text: str, section: str) -> str:
    m = re.search(rf"(?m)^\[{re.escape(section)}\][^\n]*\n", text)
    if m is None:
        return text
    nxt = re.search(r"(?m)^\[", text[m.end():])
    end = m.end() + nxt.start() if nxt else len(text)
    return text[:m.start()] + text[end:]


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


# -- the answers -------------------------------------------------------------------------------------

def udev_ports() -> list[str]:
    """What the kiosk's udev rules name (/dev/kiosk-*) and the serial adapters by id, to offer at a prompt."""
    return sorted(glob.glob("/dev/kiosk-*")) + sorted(glob.glob("/dev/serial/by-id/*"))


def _ask(prompt: str, secret: bool = False) -> str:
    return (getpass.getpass(prompt) if secret else input(prompt)).strip()


def _pin_hash(prompt: str) -> str:
    from kiosk.core.staff import hash_pin

    first = _ask(prompt, secret=True)
    if first != _ask(_t("the same PIN again: "), secret=True):
        raise ValueError(_t("the two PINs differ"))
    return hash_pin(first)


def answers(args, interactive: bool) -> tuple[dict, list[str]]:
    """The answers from the flags, what is missing asked when `interactive`; (answers, what is missing)."""
    if args.secret and args.enrolment_token:
        raise ValueError(_t("--secret or --enrolment-token, not both"))
    got = {"kiosk_id": args.kiosk_id, "hall": args.hall, "central_url": args.central_url,
           "secret": args.secret or (ENROLMENT_PENDING if args.enrolment_token else None),
           "enrolment_token": args.enrolment_token,
           "hash_key": args.hash_key, "notice_key": args.notice_key, "staff": list(args.staff),
           "technician": list(args.technician_pin_hash), "devices": {}}
    for item in args.device:
        name, sep, port = item.partition("=")
        if not sep or name not in DEVICES or not port:
            raise ValueError(_t("--device {item!r}: expected NAME=PORT or NAME=none, NAME one of {devices}").format(
                item=item, devices=', '.join(DEVICES)))
        got["devices"][name] = port
    questions = [("kiosk_id", _t("kiosk id (e.g. hall-03-k07): "), False),
                 ("hall", _t("hall name: "), False),
                 ("central_url", _t("the platform's URL (http(s)://HOST[:PORT]): "), False),
                 ("secret", _t("this kiosk's secret or its enrolment token (from `kiosk central add-kiosk ID` "
                               "on the platform): "), True),
                 ("hash_key", _t("the deployment's hash key (or `generate` for its first kiosk): "), True),
                 ("notice_key", _t("the notifier's key (`kiosk central notice-key`, or `none`): "), False)]
    if interactive:
        for key, prompt, secret in questions:
            if not got[key]:
                got[key] = _ask(prompt, secret)
                if key == "secret" and looks_like_token(got[key]):   # XXXXX-XXXXX-XXXXX-XXXXX: a token
                    got["enrolment_token"], got["secret"] = got[key], ENROLMENT_PENDING
        if not got["staff"]:
            while True:
                sid = _ask(_t("a staff member's id (empty: no more): "))
                if not sid:
                    break
                pin_hash = _pin_hash(_t("PIN of staff {id}: ").format(id=sid))
                got["staff"].append(f"{sid}:{pin_hash}")
        if not got["technician"]:
            got["technician"].append(_pin_hash(_t("the technician PIN: ")))
        offered = udev_ports()
        if offered:
            print(_t("device ports udev names here: {ports}").format(ports=", ".join(offered)))
        for name in DEVICES:
            if name not in got["devices"]:
                question = (_t("{device} CUPS queue (`none`: this kiosk has none): ") if name == "document_printer"
                            else _t("{device} port (`none`: this kiosk has none): "))
                got["devices"][name] = _ask(question.format(device=name)) or "none"
    missing = [f"--{k.replace('_', '-')}" if k != "secret" else "--secret (or --enrolment-token)"
               for k, _, _ in questions if not got[k]]
    missing += ["--staff"] if not got["staff"] else []
    missing += ["--technician-pin-hash"] if not got["technician"] else []
    missing += [f"--device {n}=..." for n in DEVICES if n not in got["devices"]]
    return got, missing


def _absolute_paths(text: str, base: Path) -> str:
    """The template's paths relative to its own folder (the data dir, the catalog seed, the operators' keys),
    made absolute, so they point where they did from the new config's folder."""
    def fix(m: re.Match) -> str:
        return f'{m.group(1)}"{(base / m.group(2)).resolve()}"'
    text = re.sub(r'(?m)^((?:data_dir|seed_file)[ \t]*=[ \t]*)"([^"/][^"]*)"', fix, text)
    return re.sub(r'(?m)^(trusted_keys[ \t]*=[ \t]*\[[^\]\n]*?)"([^"/][^"]*)"', fix, text)


def render(template: str, got: dict) -> str:
    from kiosk.core.staff import check_pin_hash

    text = set_key(template, "kiosk", "demo", False)
    text = set_key(text, "kiosk", "id", got["kiosk_id"])
    text = set_key(text, "kiosk", "hall", got["hall"])
    text = set_key(text, "central", "url", got["central_url"])
    text = set_key(text, "central", "secret", got["secret"])
    if got["notice_key"] in (None, "", "none"):
        text = drop_key(text, "central", "notice_key")
    else:
        text = set_key(text, "central", "notice_key", got["notice_key"])
    hash_key = secrets.token_hex(32) if got["hash_key"] == "generate" else got["hash_key"]
    text = set_key(text, "privacy", "hash_key", hash_key)
    members = []
    for item in got["staff"]:
        sid, sep, pin_hash = item.partition(":")
        if not sep or not sid:
            raise ValueError(_t("--staff {item}...: expected ID:HASH (the hash from `kiosk staff hash-pin`)").format(
                item=item[:12]))
        members.append({"id": sid, "pin_hash": check_pin_hash(pin_hash)})
    text = re.sub(r"(?ms)^members = \[.*?\]\n(?=\S|\Z)", "", text) if members else text
    text = set_key(text, "staff", "members", members)
    text = set_key(text, "technician", "pin_hashes", [check_pin_hash(h) for h in got["technician"]])
    for name, port in got["devices"].items():
        section = f"devices.{name}"
        if port == "none":
            text = drop_section(text, section)
        elif _section_span(text, section) is None:
            raise ValueError(_t("--device {device}: the template has no [{section}] to set; write it by hand "
                                "(docs/hardware.md)").format(device=name, section=section))
        else:
            text = set_key(text, section, PORT_KEY.get(name, "port"), port)
    return text


def _give_the_group_its_reader(tmp: Path, out: Path) -> None:
    """The written config keeps the group of the one it replaces (the package makes /etc/kiosk/kiosk.toml
    root:kiosk 0640: the kiosk's services read it as the kiosk user); one that is new or was root's own
    gets the group `kiosk` when there is one. Otherwise the services could not read what root wrote."""
    if os.geteuid() != 0:
        return
    try:
        gid = out.stat().st_gid
    except FileNotFoundError:
        gid = 0
    if gid == 0:
        try:
            gid = grp.getgrnam(KIOSK_GROUP).gr_gid
        except KeyError:
            return
    os.chown(tmp, 0, gid)


def run(ctx) -> int:
    from kiosk import config
    from kiosk.provisioning import demo_values

    args = ctx.args
    out = Path(args.out)

    def fail(code: int, message: str) -> int:
        print(f"kiosk provision: {message}", file=sys.stderr)
        return code

    # the demo hall's config of the source tree this kiosk runs from (an installed kiosk has its installer's)
    source_tree = Path(__file__).resolve().parents[2] / "config" / "kiosk.toml"
    template_path = Path(args.template) if args.template else out if out.is_file() else source_tree
    try:
        template = template_path.read_text(encoding="utf-8")
    except OSError as exc:
        return fail(EXIT_USAGE, _t("{path}: cannot be read ({reason}); give the config to start from with "
                                   "--template (scripts/install-kiosk.sh writes {default})").format(
                                       path=template_path, reason=exc.strerror, default=DEFAULT_OUT))
    if out.is_file() and not args.force and template_path == out:
        try:
            current = config.load(out)
            if not current.kiosk.demo and not demo_values(current):
                return fail(EXIT_USAGE, _t("{path} is already provisioned; --force replaces it").format(path=out))
        except config.ConfigError:
            pass   # a broken config is what provisioning mends
    if template_path.resolve() != out.resolve():
        template = _absolute_paths(template, template_path.parent)
    try:
        got, missing = answers(args, interactive=sys.stdin.isatty() and not ctx.json)
        if missing:
            return fail(EXIT_USAGE, _t("missing: {options} (or run it on a terminal to be asked)").format(
                options=", ".join(missing)))
        text = render(template, got)
    except (ValueError, EOFError) as exc:
        return fail(EXIT_USAGE, str(exc))
    except Exception as exc:   # a PIN hash that is not one (PinError) names itself
        return fail(EXIT_USAGE, f"{type(exc).__name__}: {exc}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kiosk-provision-", suffix=".toml", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o640)
        _give_the_group_its_reader(Path(tmp), out)
        try:
            settings = config.load(Path(tmp))
        except config.ConfigError as exc:
            return fail(EXIT_USAGE, _t("the answers do not make a valid config: {problem}").format(problem=exc))
        left = demo_values(settings)
        if left:
            return fail(EXIT_USAGE, _t("demo values would remain, nothing written: {values}").format(
                values="; ".join(f"{v.key}: {v.problem}" for v in left)))
        if got["enrolment_token"]:
            # last, once the rest is known to make a config: a token is good for one use
            from kiosk.sync.enrol import EnrolError, enrol

            ca = str(settings.resolve(settings.central.ca_bundle)) if settings.central.ca_bundle else None
            try:
                secret = enrol(got["central_url"], got["kiosk_id"], got["enrolment_token"], ca_bundle=ca)
            except EnrolError as exc:
                return fail(EXIT_FAILED, _t("enrolment failed, nothing written: {problem}").format(problem=exc))
            with open(tmp, "w", encoding="utf-8") as f:   # the same file: its mode and group stay
                f.write(set_key(text, "central", "secret", secret))
        os.replace(tmp, out)
    except OSError as exc:
        return fail(EXIT_FAILED, _t("{path}: cannot be written ({reason})").format(path=out, reason=exc.strerror))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    doc = {"ok": True, "config": str(out), "kiosk_id": got["kiosk_id"], "enrolled": bool(got["enrolment_token"]),
           "devices": {n: p for n, p in got["devices"].items()},
           "hash_key_generated": got["hash_key"] == "generate"}
    enrolled = (_t("enrolled: the platform gave kiosk {id} its secret, which is in the config") + "\n").format(
        id=got["kiosk_id"]) if got["enrolment_token"] else ""
    ctx.emit(doc, enrolled + (_t("{path} written for kiosk {id}; `kiosk config check` passes; the hash key was generated: give "
                      "the same to the platform and every other kiosk of the deployment ([privacy] hash_key)")
                   if got["hash_key"] == "generate" else
                   _t("{path} written for kiosk {id}; `kiosk config check` passes")).format(path=out, id=got['kiosk_id']))
    return EXIT_OK
