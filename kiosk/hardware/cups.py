"""The A4 printer (driver `cups`): a PDF to a CUPS queue, the job followed to its end, the queue's health.

Command-line tools only (pycups needs libcups headers to build): `lp` submits,
`cancel` cancels, and `ipptool` asks IPP Get-Printer-Attributes and
Get-Job-Attributes, whose answers (printer-state 3/4/5, printer-state-reasons,
job-state 3..9, job-impressions-completed) are read from its plist output.

Job states (RFC 8011): 3 pending, 4 held, 5 processing, 6 stopped, 7 canceled,
8 aborted, 9 completed ("completed" = handed to the backend, not "on paper").
A queue in state 5 (stopped) or with a `*-error` reason is a fault. An
unattended kiosk sets `printer-error-policy=abort-job`, so a failing printer
aborts the job (the citizen is told at once) instead of stopping the queue.

The CUPS server is configurable: None = the system's ($CUPS_SERVER, else
/run/cups/cups.sock, else localhost:631); a socket path or HOST[:PORT] (tests
run a private cupsd, tests/cupsd.py).
"""
from __future__ import annotations

import enum
import logging
import os
import plistlib
import re
import subprocess
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from kiosk.hardware.device import (SYSTEM_CLOCK, CancelToken, DeviceClock, Completion, Device, DeviceError, ProtocolError,
                                   SelfTest, State, Status, Timeouts)

log = logging.getLogger(__name__)

TIMEOUTS = {
    "command": 10.0,       # one lp / cancel / ipptool run
    "job": 180.0,          # a job from submission to completed / aborted / canceled
    "poll_interval": 0.5,  # between job-state questions
}

class JobState(enum.IntEnum):
    """IPP job-state (RFC 8011 section 5.3.7): where a print job is; the last three are final."""
    PENDING = 3
    HELD = 4
    PROCESSING = 5
    STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def final(self) -> bool:
        return self in (JobState.CANCELED, JobState.ABORTED, JobState.COMPLETED)


JOB_STATES = {s.value: s.name.lower() for s in JobState}
FINAL_JOB_STATES = tuple(s for s in JobState if s.final)
PRINTER_STATES = {3: "idle", 4: "processing", 5: "stopped"}

# printer-state-reasons keywords (RFC 8011 / PWG 5100.9) -> our detail; the -error/-warning/-report
# suffix says how bad it is
REASON_DETAILS = {
    "media-empty": "paper_out", "media-needed": "paper_out", "input-tray-missing": "paper_out",
    "media-low": "paper_near_end",
    "media-jam": "paper_jam",
    "door-open": "cover_open", "cover-open": "cover_open", "interlock-open": "cover_open",
    "toner-empty": "toner_out", "marker-supply-empty": "toner_out",
    "toner-low": "toner_low", "marker-supply-low": "toner_low",
    "offline": "offline", "shutdown": "offline", "connecting-to-device": "connecting",
    "paused": "stopped", "stopped-partly": "stopped",
    "cups-missing-filter": "missing_filter", "cups-insecure-filter": "missing_filter",
}
OFFLINE_DETAILS = {"paper_out", "cover_open", "offline", "stopped"}

_PRINTER_TEST = """{
  NAME "printer"
  OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $user
  ATTR keyword requested-attributes printer-state,printer-state-reasons,printer-is-accepting-jobs,printer-state-message,printer-error-policy,printer-make-and-model,device-uri
}
"""
_JOB_TEST = """{
  NAME "job"
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job_id
  ATTR name requesting-user-name $user
  ATTR keyword requested-attributes job-state,job-state-reasons,job-impressions-completed,job-media-sheets-completed,job-printer-state-message,job-name
}
"""


def default_server() -> str:
    """Where the CUPS client tools would go without being told: $CUPS_SERVER, the local socket, localhost."""
    env = os.environ.get("CUPS_SERVER")
    if env:
        return env
    if Path("/run/cups/cups.sock").exists():
        return "/run/cups/cups.sock"
    return "localhost:631"


def printer_uri(server: str, printer: str) -> str:
    """ipptool's URI of a queue: a socket path goes percent-encoded in the host part (CUPS's convention)."""
    queue = urllib.parse.quote(printer, safe="")
    if server.startswith("/"):
        return f"ipp://{urllib.parse.quote(server, safe='')}/printers/{queue}"
    host = server if ":" in server.rsplit("]", 1)[-1] else f"{server}:631"
    return f"ipp://{host}/printers/{queue}"


def reasons_of(value) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(r) for r in items if str(r) != "none"]


def split_reason(reason: str) -> tuple[str, str]:
    """`media-empty-error` -> ("media-empty", "error"); no suffix is a report."""
    for sev in ("error", "warning", "report"):
        if reason.endswith("-" + sev):
            return reason[: -len(sev) - 1], sev
    return reason, "report"


@dataclass(frozen=True)
class PrinterInfo:
    state: int
    reasons: tuple[str, ...]
    accepting: bool
    message: str = ""
    error_policy: str = ""
    make_and_model: str = ""
    device_uri: str = ""

    @property
    def state_name(self) -> str:
        return PRINTER_STATES.get(self.state, f"state_{self.state}")

    def as_status(self) -> Status:
        """printer-state and reasons -> our status: state 5 or a *-error reason is a fault."""
        errors, warnings = [], []
        for reason in self.reasons:
            keyword, sev = split_reason(reason)
            detail = REASON_DETAILS.get(keyword, keyword.replace("-", "_"))
            (errors if sev == "error" else warnings).append((keyword, detail))
        if errors:
            detail = errors[0][1]
            return Status(State.OFFLINE if detail in OFFLINE_DETAILS else State.HARDWARE_ERROR, detail)
        if self.state == 5:
            known = [d for k, d in warnings if k in REASON_DETAILS and d != "stopped"]
            return Status(State.OFFLINE, known[0] if known else "stopped")
        if not self.accepting:
            return Status(State.OFFLINE, "not_accepting_jobs")
        notes = [d for k, d in warnings if k in ("media-low", "toner-low", "marker-supply-low")]
        if self.state == 4:
            return Status(State.BUSY, notes[0] if notes else "")
        return Status(State.ONLINE, notes[0] if notes else "")

    def as_dict(self) -> dict:
        return {"state": self.state, "state_name": self.state_name, "reasons": list(self.reasons),
                "accepting": self.accepting, "message": self.message, "error_policy": self.error_policy}


@dataclass(frozen=True)
class JobInfo:
    job_id: int
    state: JobState | int          # an int only for a state RFC 8011 does not define
    reasons: tuple[str, ...] = ()
    pages: int | None = None       # job-impressions-completed, when CUPS reports it
    message: str = ""

    @property
    def state_name(self) -> str:
        return JOB_STATES.get(self.state, f"state_{self.state}")

    @property
    def final(self) -> bool:
        return self.state in FINAL_JOB_STATES

    @property
    def completed(self) -> bool:
        return self.state == JobState.COMPLETED

    @property
    def failure_detail(self) -> str:
        """The detail of a final job that did not complete (a queue reason may say more)."""
        return "job_canceled" if self.state == JobState.CANCELED else "job_aborted"

    def as_dict(self) -> dict:
        return {"job_id": self.job_id, "state": self.state, "state_name": self.state_name,
                "reasons": list(self.reasons), "pages": self.pages, "message": self.message}


def parse_ipptool_plist(data: bytes) -> tuple[str | None, dict, str]:
    """ipptool -X output -> (IPP status code or None, the merged response attributes, error message).

    Never raises: output of any other shape (a root that is not a dictionary, `Tests` that is not
    a list of dictionaries, a status code that is not text) is "no answer" with what was wrong."""
    try:
        doc = plistlib.loads(data)
    except Exception as exc:
        return None, {}, f"unreadable ipptool output: {exc}"
    if not isinstance(doc, dict):
        return None, {}, f"ipptool output is a {type(doc).__name__}, not a dictionary"
    tests = doc.get("Tests")
    if not tests or not isinstance(tests, list) or not isinstance(tests[0], dict):
        return None, {}, str(doc.get("ErrorMessage", "no answer"))
    test = tests[0]
    attrs: dict = {}
    groups = test.get("ResponseAttributes")
    for group in groups if isinstance(groups, list) else []:
        if isinstance(group, dict):
            attrs.update(group)
    code = test.get("StatusCode")
    if code is not None and not isinstance(code, str):
        return None, {}, f"ipptool status code {code!r} is not text"
    return code, attrs, str(test.get("ErrorMessage", ""))


def int_attribute(attrs: Mapping, key: str, default: int = 0) -> int:
    """An integer (or enum) IPP attribute; ProtocolError when the printer sent something else."""
    value = attrs.get(key, default)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"IPP attribute {key} is {value!r}, not an integer")
    return value


def printer_info_from(attrs: Mapping) -> PrinterInfo:
    """The answer to the printer query -> PrinterInfo; ProtocolError when printer-state is not an integer."""
    return PrinterInfo(state=int_attribute(attrs, "printer-state"),
                       reasons=tuple(reasons_of(attrs.get("printer-state-reasons"))),
                       accepting=bool(attrs.get("printer-is-accepting-jobs", False)),
                       message=str(attrs.get("printer-state-message", "")),
                       error_policy=str(attrs.get("printer-error-policy", "")),
                       make_and_model=str(attrs.get("printer-make-and-model", "")),
                       device_uri=str(attrs.get("device-uri", "")))


def job_info_from(job_id: int, attrs: Mapping) -> JobInfo:
    """The answer to the job query -> JobInfo; ProtocolError when job-state is not an integer."""
    pages = attrs.get("job-impressions-completed")
    state = int_attribute(attrs, "job-state")
    return JobInfo(job_id=job_id, state=JobState(state) if state in JOB_STATES else state,
                   reasons=tuple(reasons_of(attrs.get("job-state-reasons"))),
                   pages=pages if isinstance(pages, int) and not isinstance(pages, bool) else None,
                   message=str(attrs.get("job-printer-state-message", "")))


class CupsPrinter(Device):
    kind = "document_printer"
    capabilities = frozenset({"pdf", "job_tracking", "status"})

    def __init__(self, name: str, printer: str, server: str | None = None,
                 timeouts: Mapping[str, float] | None = None, clock: DeviceClock = SYSTEM_CLOCK):
        super().__init__(name, "cups", printer)
        self.printer = printer
        self.server = server or default_server()
        self.timeouts = Timeouts(name, TIMEOUTS, timeouts)
        self.clock = clock
        self._cancel = CancelToken()
        self._lock = threading.Lock()
        self._tests: dict[str, str] = {}

    # --- the tools -------------------------------------------------------------------------------

    def _env(self) -> dict:
        return dict(os.environ, CUPS_SERVER=self.server, LC_ALL="C", LANG="C")

    def _run(self, cmd: Sequence[str]) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(list(cmd), capture_output=True, env=self._env(), timeout=self.timeouts.command,
                                  stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise self._failed(Completion.DEVICE_NOT_READY,
                               f"{cmd[0]} is not installed (Debian: cups-client cups-bsd; scripts/system-packages.sh)",
                               "cups_not_installed") from None
        except subprocess.TimeoutExpired:
            raise self._failed(Completion.TIMEOUT, f"{cmd[0]} got no answer from CUPS at {self.server} "
                               f"within {self.timeouts.command:g} s", "no_answer") from None

    def _test_file(self, kind: str, text: str) -> str:
        with self._lock:
            path = self._tests.get(kind)
            if path is None or not os.path.exists(path):
                fd, path = tempfile.mkstemp(prefix=f"kiosk-ipp-{kind}-", suffix=".test")
                with os.fdopen(fd, "w") as f:
                    f.write(text)
                self._tests[kind] = path
            return path

    def _ipp(self, kind: str, text: str, **variables: str) -> dict:
        cmd = ["ipptool", "-X", "-T", str(max(1, int(self.timeouts.command)))]
        for key, value in variables.items():
            cmd += ["-d", f"{key}={value}"]
        cmd += [printer_uri(self.server, self.printer), self._test_file(kind, text)]
        done = self._run(cmd)
        code, attrs, error = parse_ipptool_plist(done.stdout)
        if code is None:
            raise self._failed(Completion.DEVICE_NOT_READY,
                               f"CUPS at {self.server} does not answer ({error or done.stderr.decode(errors='replace').strip()}); "
                               f"is cupsd running?", "no_answer")
        if code == "client-error-not-found":
            raise self._failed(Completion.DEVICE_NOT_READY,
                               f"CUPS at {self.server} has no {'job' if kind == 'job' else 'queue'} "
                               f"{variables.get('job_id', self.printer)} (create the queue: scripts/cups-sim-queue.sh, "
                               f"or lpadmin for a real printer)", "no_queue" if kind == "printer" else "no_job")
        if not code.startswith("successful"):
            raise self._failed(Completion.HARDWARE_ERROR, f"CUPS answered {code} to {kind} query", code.replace("-", "_"))
        return attrs

    # --- printer ---------------------------------------------------------------------------------

    def printer_info(self) -> PrinterInfo:
        try:
            return printer_info_from(self._ipp("printer", _PRINTER_TEST))
        except ProtocolError as exc:
            raise self._failed(Completion.HARDWARE_ERROR, f"CUPS answered the printer query oddly: {exc}",
                               "bad_reply") from None

    def status(self) -> Status:
        try:
            return self.printer_info().as_status()
        except DeviceError as exc:
            if exc.detail == "no_queue" or exc.detail == "cups_not_installed":
                return Status(State.NO_DEVICE, exc.detail)
            return Status(State.OFFLINE, exc.detail or "no_answer")

    def self_test(self) -> SelfTest:
        try:
            info = self.printer_info()
        except DeviceError as exc:
            return SelfTest(False, exc.message)
        status = info.as_status()
        msg = f"queue {self.printer} on {self.server}: {info.state_name}"
        if info.reasons:
            msg += f" ({', '.join(info.reasons)})"
        if info.error_policy and info.error_policy != "abort-job":
            msg += (f"; printer-error-policy is {info.error_policy}: an unattended kiosk should use abort-job "
                    f"(lpadmin -p {self.printer} -o printer-error-policy=abort-job)")
        return SelfTest(status.usable, msg)

    # --- jobs ------------------------------------------------------------------------------------

    def submit(self, pdf: str | os.PathLike, title: str = "kiosk", copies: int = 1) -> int:
        """Queue a PDF; returns the CUPS job id. Refuses a file that is not a PDF."""
        path = Path(pdf)
        try:
            with path.open("rb") as f:
                head = f.read(5)
        except OSError as exc:
            raise self._failed(Completion.INVALID_DATA, f"cannot read {path}: {exc.strerror}", "bad_document") from None
        if head != b"%PDF-":
            raise self._failed(Completion.INVALID_DATA, f"{path} is not a PDF", "bad_document")
        if not 1 <= copies <= 99:
            raise self._failed(Completion.USER_ERROR, f"copies must be 1-99, not {copies}", "bad_copies")
        done = self._run(["lp", "-d", self.printer, "-t", title[:100], "-n", str(copies), "--", str(path)])
        out = done.stdout.decode(errors="replace")
        m = re.search(r"request id is (.+)-(\d+) ", out)
        if done.returncode != 0 or not m:
            err = done.stderr.decode(errors="replace").strip() or out.strip()
            detail = "not_accepting_jobs" if "not accepting" in err else (
                "no_queue" if "does not exist" in err else "no_answer" if "connect" in err.lower() else "submit_failed")
            raise self._failed(Completion.DEVICE_NOT_READY, f"lp refused the job: {err}", detail)
        job_id = int(m.group(2))
        log.info("%s: job %d queued on %s (%s)", self.name, job_id, self.printer, title)
        return job_id

    def job(self, job_id: int) -> JobInfo:
        try:
            return job_info_from(job_id, self._ipp("job", _JOB_TEST, job_id=str(job_id)))
        except ProtocolError as exc:
            raise self._failed(Completion.HARDWARE_ERROR, f"CUPS answered the query of job {job_id} oddly: {exc}",
                               "bad_reply") from None

    def cancel_job(self, job_id: int) -> None:
        done = self._run(["cancel", f"{self.printer}-{job_id}"])
        if done.returncode != 0:
            log.warning("%s: cancel of job %d: %s", self.name, job_id, done.stderr.decode(errors="replace").strip())

    def wait(self, job_id: int, timeout: float | None = None, cancel: CancelToken | None = None) -> JobInfo:
        """Follow a job to completed, aborted or canceled. Past `timeout` the job is canceled and TIMEOUT raised."""
        cancel = cancel or self._cancel
        timeout = self.timeouts.job if timeout is None else timeout
        deadline = self.clock.monotonic() + timeout
        while True:
            info = self.job(job_id)
            if info.final:
                return info
            if cancel.canceled:
                self.cancel_job(job_id)
                raise self._failed(Completion.CANCELED, f"job {job_id} canceled", "job_canceled")
            if self.clock.monotonic() >= deadline:
                self.cancel_job(job_id)
                raise self._failed(Completion.TIMEOUT, f"job {job_id} still {info.state_name} after {timeout:g} s; "
                                   f"canceled so it does not print later", "job_timeout")
            self.clock.sleep(self.timeouts.poll_interval)

    def print_pdf(self, pdf: str | os.PathLike, title: str = "kiosk", copies: int = 1,
                  cancel: CancelToken | None = None) -> JobInfo:
        """Check the queue, submit, follow the job; DeviceError unless it completed."""
        status = self.status()
        if not status.usable:
            raise self._failed(Completion.DEVICE_NOT_READY,
                               f"queue {self.printer} cannot print now ({status.state.value}: {status.detail})",
                               status.detail)
        job_id = self.submit(pdf, title, copies)
        info = self.wait(job_id, cancel=cancel)
        if info.completed:
            return info
        if info.state == JobState.CANCELED:
            raise self._failed(Completion.CANCELED, f"job {job_id} was canceled", "job_canceled")
        raise self._failed(Completion.HARDWARE_ERROR,
                           f"job {job_id} was aborted by CUPS ({', '.join(info.reasons) or info.message or 'no reason'})",
                           "job_aborted")

    def cancel(self) -> None:
        self._cancel.cancel()
        self._cancel = CancelToken()

    def describe(self) -> dict:
        return {**super().describe(), "server": self.server, "timeouts": self.timeouts.as_dict()}

    def close(self) -> None:
        with self._lock:
            for path in self._tests.values():
                try:
                    os.unlink(path)
                except OSError:
                    pass
            self._tests.clear()
