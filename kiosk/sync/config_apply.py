"""Verify a signed config bundle and apply it: fail closed, switch atomically, check health, roll back.

All three ways a bundle arrives (a file, the management API, the fleet pull)
end in `ConfigApplier.apply_bytes`, which checks, in this order, and keeps the
current config with the reason recorded on the first failure:

 1. size, before anything is parsed (`too_large`)
 2. the envelope's shape (`malformed`); attached key rotations are followed
 3. signatures by the pinned trusted keys (`no_trusted_keys`, `unknown_key`, `bad_signature`);
    only then is the payload decoded
 4. this kiosk among the targets: its id or one of its `[kiosk] groups` (`not_targeted`)
 5. a version above the current one (`stale_version`); the same version with the same
    content changes nothing (`unchanged`), with other content it is refused with an
    alarm (`version_conflict`); a bundle once rolled back is not taken again (`rolled_back_before`)
 6. not expired, judged against the latest wall time this kiosk has trustworthily seen
    (`expired`): a high-water mark fed by the local clock and the signed issue times of
    verified bundles (at most MAX_MARK_STEP_S past the local clock, so one bundle signed
    on a machine with a wild clock cannot expire every later one), which never goes back,
    so a clock set back cannot revive an old bundle. Unauthenticated times (an HTTP
    `Date` header) never move it; `kiosk config reset-time` puts it back to the clock
    and raises the alarm `config:time_mark_reset`
 7. `min_software` not above this software (`software_too_old`)
 8. only keys an operator may change remotely (`local_only_setting`; device wiring,
    identity, secrets and trust stay in kiosk.toml), and the bundle's settings merged
    over the local file valid against `kiosk.config.Settings` (`invalid_settings`)

Then the apply, every step durable before the next (fsync of file and folder):
the overlay goes into history/, a journal names the config to go back to, the
overlay replaces `applied.json` with os.replace (that rename is the switch:
`kiosk.config.load` merges `applied.json` over kiosk.toml, so every process
reads the old config whole or the new one whole), a health check runs (the
config loads from disk as applied, the store opens, the hooks of the UI or
agent pass), and the state is recorded. A failed health check puts the
previous overlay back. A journal found on the next start means the process
died in between: the previous config is put back (`interrupted`).

Why files in the data dir and not the database: `kiosk.config.load` must read
the switch before any store exists; one rename is atomic where a file plus a
database row would need a two-phase commit; and the health check must be able
to report a store that does not open. Under `<data_dir>/config/`:

    applied.json   the live overlay {"version","sha256",...,"settings"}
    history/       the last KEEP overlays and their signed envelopes (rollback, audit)
    journal.json   present only while an apply is on trial
    state.json     the last attempt's outcome and last rejection (`kiosk config status`)
    clock.json     the high-water mark of trustworthy wall time
    trust.json     the operator key set pinned by the latest rotation (overrides
                   [management] trusted_keys once present)
    .lock          flock: one apply at a time across the agent and the CLI

Outcomes are reported to the central platform as `alarm` transactions through
kiosk.alarms (raised once, cleared by the next successful apply), and the
version in the heartbeat comes from `current_version()`.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from kiosk import __version__, config
from kiosk.config import ConfigError, Settings
from kiosk.wire import bundle
from kiosk.wire.bundle import BundleError, TrustSet
from kiosk.sync.config_files import ConfigDir, TimeMark, history_name, iso
from kiosk.durable import (StepHook, dump_json, fsync_dir, no_hook, read_json, unlink_durable,  # noqa: F401
                                write_atomic)

log = logging.getLogger(__name__)

KEEP = 5  # configs kept for rollback
# the furthest a signed issue time may move the expiry high-water mark past the local clock:
# clocks of kiosk and operator machine may disagree by hours, not by years
MAX_MARK_STEP_S = 86400.0
TIME_RESET_ALARM = ("config", "time_mark_reset")

# The keys an operator may change remotely, by table; None = every key of the table.
# Everything else (device wiring, screen geometry, identity, the central URL and
# secret, trusted keys, the privacy key, the data dir) stays in kiosk.toml.
REMOTE_SETTINGS: dict[str, frozenset[str] | None] = {
    "kiosk": frozenset({"hall", "hall_en", "language", "idle_timeout_s", "idle_warning_s", "idle_extensions", "hotline"}),
    "ui": frozenset({"elder_scale"}),
    "central": frozenset({"timeout_s", "lookup_timeout_s", "notice_key"}),
    "sync": None,
    "devices.payment": frozenset({"result_timeout_s"}),
    "devices.locker": frozenset({"place"}),    # where it stands, not how it is wired
    # service policy: fees, ratings, payment timeouts, the locker's rules and door sizes, PIN hashes
    "fees": None,
    "ratings": None,
    "payments": frozenset({"methods", "code_scan_timeout_s", "code_confirm_timeout_s", "code_poll_s"}),  # not the
    # acquirer: a plug-in that is code to load, wired in kiosk.toml like a device
    "pickup": None,
    "staff": None,
    "technician": frozenset({"pin_hashes", "hold_s", "wrong_pins_before_lockout", "pin_lockout_s",
                             "idle_timeout_s"}),
    "documents": frozenset({"id_card_timeout_s", "print_timeout_s"}),
    "services": None,    # which citizen services have a tile
}

# the steps an apply passes, in order; `ConfigApplier(step_reached=...)` hears each one (the crash tests
# of tests/config_bundle kill the process there)
APPLY_STEPS = ("verified", "history_written", "journal_written", "switch_tmp_written", "switch_replaced",
               "switch_synced", "health_checked", "state_recorded", "journal_removed")
ROLLBACK_STEPS = ("rollback_tmp_written", "rollback_replaced", "rollback_synced", "rollback_recorded")

HealthCheck = Callable[[Settings], "str | bool | None"]
def local_only_keys(settings: dict[str, Any]) -> list[str]:
    """The dotted keys of a bundle's settings that an operator may not change remotely."""
    bad: list[str] = []

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            allowed = REMOTE_SETTINGS.get(prefix, frozenset())
            if prefix in REMOTE_SETTINGS and (allowed is None or key in allowed):
                continue
            if isinstance(value, dict) and any(t == path or t.startswith(path + ".") for t in REMOTE_SETTINGS):
                walk(value, path)
            else:
                bad.append(path)

    walk(settings, "")
    return bad


# -- outcome ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    result: str                    # applied | unchanged | rotated | rejected | rolled_back
    code: str | None = None        # snake case: why it was refused or rolled back
    reason: str | None = None      # for a person
    version: int | None = None     # the bundle's, once its signature verified
    sha256: str | None = None      # of the payload
    current_version: int | None = None  # the kiosk's config version afterwards

    @property
    def ok(self) -> bool:
        return self.result in ("applied", "unchanged", "rotated")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        if self.result == "applied":
            return f"applied config version {self.version} ({(self.sha256 or '')[:12]})"
        if self.result == "unchanged":
            return self.reason or f"config version {self.version} is already applied; nothing changed"
        if self.result == "rotated":
            return f"trusted operator keys rotated: {self.reason}"
        word = "rejected" if self.result == "rejected" else "rolled back"
        return f"{word} ({self.code}): {self.reason}; the kiosk stays on config version {self.current_version or 0}"


class _Refused(Exception):
    def __init__(self, code: str, reason: str, version: int | None = None, sha256: str | None = None,
                 alarm: str = "rejected"):
        super().__init__(reason)
        self.code, self.reason, self.version, self.sha256, self.alarm = code, reason, version, sha256, alarm


# -- the applier -----------------------------------------------------------------------------

class ConfigApplier:
    """One kiosk's remote config: verify, apply, roll back, report. Safe from threads and processes
    at once (an flock on `<data_dir>/config/.lock`)."""

    def __init__(self, settings: Settings, *, now: Callable[[], float] = time.time,
                 health_checks: Iterable[HealthCheck] = (), report: Callable[[Outcome], None] | None = None,
                 software_version: str = __version__, keep: int = KEEP, step_reached: StepHook = no_hook):
        """`step_reached(step)` is called at each step of APPLY_STEPS and ROLLBACK_STEPS as it is passed:
        a seam for the tests that kill the process there; a no-op by default."""
        self.settings = settings
        self.source = settings.source
        self.dir = ConfigDir(settings.data_path)
        self.now = now
        self.health_checks = list(health_checks)
        self.report = report if report is not None else AlarmReport(settings)
        self.software_version = software_version
        self.keep = keep
        self.step_reached = step_reached
        self.clock = TimeMark(self.dir.clock)

    # -- public ------------------------------------------------------------------------------
    def apply_file(self, path: Path, source: str = "file") -> Outcome:
        """A signed bundle from a file; the size is checked before a byte is read."""
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                raw = None if size > bundle.MAX_ENVELOPE_BYTES else f.read(bundle.MAX_ENVELOPE_BYTES + 1)
        except OSError as exc:
            return self._finish(_Refused("unreadable", f"{path}: cannot be read: {exc.strerror}"), source)
        if raw is None:
            return self._finish(_Refused("too_large", f"{path}: {size} bytes; a signed bundle is at most "
                                                      f"{bundle.MAX_ENVELOPE_BYTES} bytes"), source)
        return self.apply_bytes(raw, source)

    def apply_bytes(self, raw: bytes, source: str = "file") -> Outcome:
        with self._locked():
            self._recover()
            try:
                outcome = self._apply(raw, source)
            except _Refused as refused:
                return self._finish(refused, source, locked=True)
            except OSError as exc:  # a full or read-only disk: undo what was started, keep the config
                log.error("config: writing the config failed: %s", exc)
                with contextlib.suppress(OSError):
                    self._recover()
                return self._finish(_Refused("write_failed", f"the config could not be written ({exc.strerror or exc}; "
                                                             "disk full or read-only?); the kiosk keeps its config"),
                                    source, locked=True)
        self._report(outcome)
        return outcome

    def status(self) -> dict[str, Any]:
        with self._locked(blocking=False) as got:
            if got:
                self._recover()
        applied = self._applied_doc()
        state = self._state()
        mark, mark_source = self.clock.read()
        try:
            history = sorted(p.name.removesuffix(".json") for p in self.dir.history.glob("*.json")
                             if not p.name.endswith(".envelope.json"))
        except OSError:
            history = []
        return {
            "version": applied.get("version"),
            "sha256": applied.get("sha256"),
            "state": state.get("state", "applied" if applied else "none"),
            "last_rejection": state.get("last_rejection"),
            "issued": applied.get("issued"),
            "expires": applied.get("expires"),
            "applied_at": applied.get("applied_at"),
            "time_high_water": iso(mark) if mark else None,
            "time_high_water_source": mark_source if mark else None,
            "trust": self.trust().describe(),
            "history": history,
            "trial": self.dir.journal.exists(),
        }

    def observe_signed_time(self, ts: float, source: str) -> tuple[float, str]:
        """Feed the high-water mark a signed (verified) time, at most MAX_MARK_STEP_S past the local clock."""
        limit = self.now() + MAX_MARK_STEP_S
        if ts > limit:
            log.warning("config: %s is %s, more than a day past this kiosk's clock (%s); the expiry mark moves "
                        "only to %s", source, iso(ts), iso(self.now()), iso(limit))
            ts, source = limit, f"{source}, capped at the local clock + 1 day"
        return self.clock.advance(ts, source)

    def reset_time(self, source: str = "kiosk config reset-time") -> dict[str, Any]:
        """A technician's reset of the high-water mark to the local clock; raises `config:time_mark_reset`."""
        with self._locked():
            old, old_source = self.clock.reset(self.now(), f"reset by {source} to the local clock")
        now = self.now()
        detail = (f"expiry time mark reset from {iso(old) if old else 'none'} ({old_source}) to the local clock "
                  f"{iso(now)} by {source}")
        log.warning("config: %s", detail)
        raise_alarm = getattr(self.report, "raise_alarm", None)
        if raise_alarm is not None:
            raise_alarm(*TIME_RESET_ALARM, detail)
        return {"previous": iso(old) if old else None, "previous_source": old_source if old else None,
                "high_water": iso(now), "alarm": ":".join(TIME_RESET_ALARM)}

    def trust(self) -> TrustSet:
        """The pinned set of the latest rotation, else the [management] trusted_keys files."""
        try:
            doc = read_json(self.dir.trust)
        except ValueError as exc:  # fail closed: falling back to the files could trust rotated-out keys
            return TrustSet({}, problems=(f"{exc}; restore it or remove it to trust the key files again",))
        if doc is not None:
            try:
                keys = {k["keyid"]: bundle.public_from_b64(k["public_key"], str(self.dir.trust)) for k in doc["keys"]}
                return TrustSet(keys, int(doc["threshold"]), int(doc["generation"]))
            except (KeyError, TypeError, ValueError, BundleError) as exc:
                return TrustSet({}, problems=(f"{self.dir.trust}: damaged ({exc})",))
        keys, problems = {}, []
        for name in self.settings.management.trusted_keys:
            path = self.settings.resolve(name)
            try:
                key = bundle.load_public_key(path)
            except BundleError as exc:
                problems.append(exc.reason)
                continue
            keys[bundle.keyid(key)] = key
        return TrustSet(keys, 1, 0, tuple(problems))

    # -- the checks ------------------------------------------------------------------------------
    def _apply(self, raw: bytes, source: str) -> Outcome:
        self.dir.ensure()
        mark, mark_source = self.clock.advance(self.now(), "local clock")
        try:
            env = bundle.parse_envelope(raw)
        except BundleError as exc:
            raise _Refused(exc.code, exc.reason) from None
        trust = self._follow_rotations(env.rotations)
        if env.payload_type == bundle.ROTATE_TYPE:
            return self._rotate(env, trust)
        if env.payload_type != bundle.CONFIG_TYPE:
            raise _Refused("unknown_type", f"payload type {env.payload_type!r} is neither a config bundle "
                                           "nor a key rotation")
        try:
            keyids = bundle.verify(env, trust)
            b = bundle.decode_config(env, keyids)
        except BundleError as exc:
            raise _Refused(exc.code, exc.reason, sha256=env.sha256) from None
        mark, mark_source = self.observe_signed_time(b.issued.timestamp(), f"issue time of bundle version {b.version}")
        try:
            local_doc = config.read_document(self.source)
            local = config.parse(config.merged(local_doc, {}), self.source)
        except ConfigError as exc:
            raise _Refused("local_config_invalid", f"this kiosk's own config does not load: {exc}",
                           b.version, b.sha256) from None
        new_settings = self._check(b, local, local_doc, mark, mark_source)
        self.step_reached("verified")
        return self._switch(b, env, new_settings, source)

    def _check(self, b: bundle.ConfigBundle, local: Settings, local_doc: dict, mark: float, mark_source: str) -> Settings:
        def refuse(code: str, reason: str, alarm: str = "rejected"):
            raise _Refused(code, reason, b.version, b.sha256, alarm)

        names = {local.kiosk.id, *local.kiosk.groups}
        if not names.intersection(b.targets):
            refuse("not_targeted", f"bundle version {b.version} targets {', '.join(b.targets)}; this kiosk is "
                                   f"{local.kiosk.id!r} in groups {list(local.kiosk.groups)}")
        if b.sha256 in self._state().get("rolled_back", []):
            refuse("rolled_back_before", f"bundle version {b.version} failed its health check here before and "
                                         "was rolled back; sign a corrected bundle with a higher version")
        current = self._applied_doc()
        cur_version = int(current.get("version") or 0)
        if b.version == cur_version and b.sha256 == current.get("sha256"):
            raise _Unchanged(b.version, b.sha256)
        if b.version == cur_version:
            refuse("version_conflict", f"version {b.version} is already applied with other content "
                                       f"({str(current.get('sha256'))[:12]}); two different bundles carry the same "
                                       "version: sign the change with a higher version", alarm="version_conflict")
        if b.version < cur_version:
            refuse("stale_version", f"version {b.version} is older than the applied version {cur_version} "
                                    "(a replayed or out-of-date bundle)")
        if b.expires.timestamp() <= mark:
            refuse("expired", f"bundle version {b.version} expired at {bundle.rfc3339(b.expires)}; the latest time "
                              f"this kiosk has seen is {iso(mark)} ({mark_source})")
        if b.min_software and bundle.software_tuple(b.min_software) > bundle.software_tuple(self.software_version):
            refuse("software_too_old", f"bundle version {b.version} needs software {b.min_software}; this kiosk "
                                       f"runs {self.software_version}")
        local_only = local_only_keys(b.settings)
        if local_only:
            refuse("local_only_setting", f"{', '.join(local_only)}: set only in kiosk.toml on the kiosk (device "
                                         "wiring, identity and secrets are never changed remotely)")
        try:
            return config.parse(config.merged(local_doc, b.settings), self.source,
                                where=f"bundle version {b.version} settings")
        except ConfigError as exc:
            refuse("invalid_settings", str(exc).replace("\n", "; "))
        raise AssertionError("unreachable")

    def _follow_rotations(self, rotations: Iterable[bundle.Envelope]) -> TrustSet:
        """Adopt each attached rotation that the trust of its time verifies (bundle.follow_rotations,
        which writes nothing) and pin the newest; the others are skipped: the bundle's own signature
        then decides."""
        start = self.trust()
        try:
            trust, adopted = bundle.follow_rotations(tuple(rotations), start)
        except BundleError as exc:
            raise _Refused(exc.code, exc.reason) from None
        if adopted:
            trust = self._pin(adopted[-1])
            log.warning("config: trusted operator keys rotated to generation %d (%s)", trust.generation,
                        ", ".join(k[:12] for k in sorted(trust.keys)))
        return trust

    def _pin(self, rot: bundle.KeyRotation) -> TrustSet:
        doc = {"generation": rot.generation, "threshold": rot.threshold, "rotation_sha256": rot.sha256,
               "issued": bundle.rfc3339(rot.issued), "pinned_at": iso(self.now()),
               "keys": [{"keyid": k, "public_key": bundle.b64(bundle.raw_public(v))} for k, v in sorted(rot.keys.items())]}
        write_atomic(self.dir.trust, dump_json(doc))
        return TrustSet(dict(rot.keys), rot.threshold, rot.generation)

    def _rotate(self, env: bundle.Envelope, trust: TrustSet) -> Outcome:
        current = self._applied_doc().get("version")
        if trust.generation and env.sha256 == self._pinned_sha():
            return Outcome("unchanged", sha256=env.sha256, current_version=current,
                           reason=f"key rotation generation {trust.generation} is already pinned")
        try:
            bundle.verify(env, trust)
            rot = bundle.decode_rotation(env)
        except BundleError as exc:
            code = "rotation_" + exc.code if exc.code in ("unknown_key", "bad_signature") else exc.code
            raise _Refused(code, f"key rotation refused: {exc.reason} (a rotation must be signed by the keys "
                                 "this kiosk trusts now)", sha256=env.sha256) from None
        self.observe_signed_time(rot.issued.timestamp(), f"issue time of key rotation {rot.generation}")
        if rot.generation <= trust.generation:
            raise _Refused("stale_rotation", f"key rotation generation {rot.generation} is not newer than the "
                                             f"trusted generation {trust.generation}", sha256=env.sha256)
        self._pin(rot)
        return Outcome("rotated", sha256=rot.sha256, current_version=current,
                       reason=f"generation {rot.generation}: {len(rot.keys)} key(s), "
                              f"{rot.threshold} signature(s) needed ({', '.join(k[:12] for k in sorted(rot.keys))})")

    def _pinned_sha(self) -> str | None:
        with contextlib.suppress(ValueError):
            return (read_json(self.dir.trust) or {}).get("rotation_sha256")
        return None

    # -- the switch ------------------------------------------------------------------------------
    def _switch(self, b: bundle.ConfigBundle, env: bundle.Envelope, new_settings: Settings, source: str) -> Outcome:
        name = history_name(b.version, b.sha256)
        overlay = dump_json({"version": b.version, "sha256": b.sha256, "issued": bundle.rfc3339(b.issued),
                         "expires": bundle.rfc3339(b.expires), "keyids": list(b.keyids),
                         "applied_at": iso(self.now()), "settings": b.settings})
        write_atomic(self.dir.history / f"{name}.json", overlay)
        write_atomic(self.dir.history / f"{name}.envelope.json", env.to_bytes())
        self.step_reached("history_written")
        previous = self._current_name()
        write_atomic(self.dir.journal, dump_json({"from": previous, "to": name, "started_at": iso(self.now())}))
        self.step_reached("journal_written")
        write_atomic(self.dir.applied, overlay, step="switch", reached=self.step_reached)
        problem = self._health(new_settings)
        if problem:
            self._roll_back(previous)
            state = self._state()
            blocked = [*state.get("rolled_back", []), b.sha256][-50:]
            refused = _Refused("health_check_failed", f"bundle version {b.version} was applied but the health "
                                                      f"check failed ({problem}); back on the previous config",
                               b.version, b.sha256, alarm="rolled_back")
            self._record(refused, source, extra={"rolled_back": blocked})
            self.step_reached("rollback_recorded")
            unlink_durable(self.dir.journal)
            log.error("config: %s", refused.reason)
            return self._outcome(refused)
        self.step_reached("health_checked")
        self._write_state({"state": "applied", "version": b.version, "sha256": b.sha256, "at": iso(self.now())})
        self.step_reached("state_recorded")
        unlink_durable(self.dir.journal)
        self.step_reached("journal_removed")
        self._prune(keep_names={name, previous})
        log.info("config: applied version %d (%s)", b.version, b.sha256[:12])
        return Outcome("applied", version=b.version, sha256=b.sha256, current_version=b.version)

    def _health(self, expected: Settings) -> str | None:
        try:
            loaded = config.load(self.source)
        except ConfigError as exc:
            return f"the config does not load: {exc}"
        if loaded != expected:
            return "the config read back from disk is not the one applied"
        try:
            from kiosk.store import Store, StoreError
            Store(loaded.data_path, loaded.kiosk.id)
        except StoreError as exc:
            return f"the store does not open: {exc}"
        for check in self.health_checks:
            name = getattr(check, "__name__", check.__class__.__name__)
            try:
                result = check(loaded)
            except Exception as exc:  # a hook that crashes is a failed check, not a crashed apply
                return f"{name}: {exc.__class__.__name__}: {exc}"
            if result is False or isinstance(result, str):
                return f"{name}: {result or 'failed'}"
        return None

    def _roll_back(self, previous: str | None) -> None:
        """Put the config named `previous` back (None: no overlay, kiosk.toml alone)."""
        if previous is None:
            unlink_durable(self.dir.applied)
            return
        try:
            data = (self.dir.history / f"{previous}.json").read_bytes()
        except OSError:
            log.error("config: history/%s.json is gone; back on kiosk.toml alone", previous)
            unlink_durable(self.dir.applied)
            return
        write_atomic(self.dir.applied, data, step="rollback", reached=self.step_reached)

    def _recover(self) -> None:
        """Finish what a process that died mid-apply left: a journal means the trial never completed."""
        self._sweep_tmp()
        try:
            journal = read_json(self.dir.journal)
        except ValueError as exc:
            log.error("config: %s; keeping the config as it is", exc)
            unlink_durable(self.dir.journal)
            return
        if journal is None:
            return
        target, previous = journal.get("to"), journal.get("from")
        state = self._state()
        rejection = state.get("last_rejection") or {}
        finished = (state.get("state") == "applied" and target == history_name(
            int(state.get("version") or 0), str(state.get("sha256") or ""))) or (
            state.get("state") == "rolled_back" and rejection.get("code") == "health_check_failed"
            and target == history_name(int(rejection.get("version") or 0), str(rejection.get("sha256") or "")))
        if finished:
            if state.get("state") == "rolled_back" and self._current_name() != previous:
                self._roll_back(previous)
            unlink_durable(self.dir.journal)  # the outcome was recorded; only the clean-up was cut short
            return
        if self._current_name() != previous:
            self._roll_back(previous)
        version = int(str(target).split("-")[0]) if target and str(target).split("-")[0].isdigit() else None
        refused = _Refused("interrupted", f"the apply of version {version} was interrupted (power cut or the "
                                          "process killed) before its health check was recorded; back on the "
                                          "previous config; apply the bundle again", version,
                           alarm="rolled_back")
        self._record(refused, "recovery")
        unlink_durable(self.dir.journal)
        log.warning("config: %s", refused.reason)
        self._report(self._outcome(refused))

    def _sweep_tmp(self) -> None:
        for folder in (self.dir.root, self.dir.history):
            with contextlib.suppress(OSError):
                for p in folder.glob(".*.tmp"):
                    with contextlib.suppress(OSError):
                        p.unlink()

    def _prune(self, keep_names: set[str | None]) -> None:
        names = sorted({p.name.split(".")[0] for p in self.dir.history.glob("*.json")})
        for old in names[:-self.keep] if len(names) > self.keep else []:
            if old in keep_names:
                continue
            for p in self.dir.history.glob(f"{old}*.json"):
                with contextlib.suppress(OSError):
                    p.unlink()

    # -- state ---------------------------------------------------------------------------------
    def _applied_doc(self) -> dict[str, Any]:
        try:
            return read_json(self.dir.applied) or {}
        except ValueError as exc:
            log.error("config: %s", exc)
            return {}

    def _current_name(self) -> str | None:
        doc = self._applied_doc()
        if not doc.get("version"):
            return None
        return history_name(int(doc["version"]), str(doc.get("sha256", "")))

    def _state(self) -> dict[str, Any]:
        try:
            return read_json(self.dir.state) or {}
        except ValueError as exc:
            log.error("config: %s; starting a new state record", exc)
            return {}

    def _write_state(self, changes: dict[str, Any]) -> None:
        doc = self._state()
        doc.update(changes)
        self.dir.ensure()
        write_atomic(self.dir.state, dump_json(doc))

    def _record(self, refused: _Refused, source: str, extra: dict[str, Any] | None = None) -> None:
        state = "rolled_back" if refused.alarm == "rolled_back" else "rejected"
        self._write_state({"state": state, "at": iso(self.now()), **(extra or {}),
                           "last_rejection": {"code": refused.code, "reason": refused.reason,
                                              "version": refused.version, "sha256": refused.sha256,
                                              "source": source, "at": iso(self.now()),
                                              "result": state}})

    def _outcome(self, refused: _Refused) -> Outcome:
        result = "rolled_back" if refused.alarm == "rolled_back" else "rejected"
        return Outcome(result, refused.code, refused.reason, refused.version, refused.sha256,
                       self._applied_doc().get("version"))

    def _finish(self, refused: Exception, source: str, locked: bool = False) -> Outcome:
        if isinstance(refused, _Unchanged):
            outcome = Outcome("unchanged", version=refused.version, sha256=refused.sha256,
                              current_version=refused.version)
            log.info("config: version %s is already applied; nothing changed", refused.version)
            return outcome
        assert isinstance(refused, _Refused)
        ctx = contextlib.nullcontext() if locked else self._locked()
        with ctx:
            try:
                self._record(refused, source)
            except OSError as exc:
                log.error("config: the rejection could not be recorded: %s", exc)
        outcome = self._outcome(refused)
        log.warning("config: bundle from %s %s", source, outcome.text())
        self._report(outcome)
        return outcome

    def _report(self, outcome: Outcome) -> None:
        try:
            self.report(outcome)
        except Exception:  # the outcome is recorded in state.json; the platform hears of it next time
            log.exception("config: the outcome could not be reported")

    @contextlib.contextmanager
    def _locked(self, blocking: bool = True) -> Iterator[bool]:
        self.dir.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir.lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
                got = True
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                got = False
            yield got
        finally:
            os.close(fd)  # closing releases the lock


class _Unchanged(_Refused):
    def __init__(self, version: int, sha256: str):
        super().__init__("unchanged", "already applied", version, sha256)


class AlarmReport:
    """Outcomes to the central platform: `alarm` transactions through kiosk.alarms, raised once
    and cleared by the next successful apply (so a flood of bad bundles is one alarm, not a flood)."""

    CODES = ("rejected", "rolled_back", "version_conflict", "time_mark_reset")

    def __init__(self, settings: Settings):
        self.settings = settings

    def __call__(self, outcome: Outcome) -> None:
        if outcome.result in ("unchanged", "rotated"):
            return
        from kiosk.alarms import Alarms
        from kiosk.store import Store
        from kiosk.sync.outbox import Outbox

        conn = Store.from_settings(self.settings).connect()
        try:
            alarms = Alarms(conn, Outbox(conn))
            if outcome.result == "applied":
                for code in self.CODES:
                    alarms.clear("config", code, f"version {outcome.version} applied")
                return
            code = "version_conflict" if outcome.code == "version_conflict" else outcome.result
            detail = f"{outcome.code}: version {outcome.version or '?'}: {outcome.reason}"
            alarms.raise_alarm("config", code, detail[:300], severity="warning")
        finally:
            conn.close()

    def raise_alarm(self, device: str, code: str, detail: str) -> None:
        """An alarm of the config machinery itself (a technician's reset of the time mark)."""
        from kiosk.alarms import Alarms
        from kiosk.store import Store
        from kiosk.sync.outbox import Outbox

        conn = Store.from_settings(self.settings).connect()
        try:
            Alarms(conn, Outbox(conn)).raise_alarm(device, code, detail[:300], severity="warning")
        finally:
            conn.close()


def current_version(settings: Settings) -> int | None:
    """The applied config version (None: kiosk.toml alone), for the heartbeat; a cheap read."""
    return config.applied_version(settings)


def status(settings: Settings) -> dict[str, Any]:
    """What `kiosk config status` shows (the technician mode shows the same)."""
    return ConfigApplier(settings, report=lambda o: None).status()
