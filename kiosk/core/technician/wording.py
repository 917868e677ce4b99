"""What the technician panel says about a device, as msgids: states, causes, check results, card fields.

Drivers (kiosk/hardware) speak in codes and never in a language: a state from a
closed set, a snake-case detail (`paper_out`, `door_open:7`, `door_not_opened:3`),
a completion code, and an English message for the log. Here those codes become
msgids (marked with N_, translated when shown). A line of a check's result is a
`Said`: a msgid and its fields, rendered with gettext when the screen draws it,
so the language switch redraws it; `str(said)` is the English, for logs and
asserts. A code this table does not know is shown as itself, beside what kind of
failure it was: a technician can still look it up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from kiosk.i18n import N_

Translate = Callable[[str], str]


def _english(msgid: str) -> str:
    return msgid


@dataclass(frozen=True)
class Said:
    """A msgid and its fields (plain values, or more `Said`), translated only when rendered."""
    msgid: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Translate = _english) -> str:
        values = {k: v.render(translate) if isinstance(v, Said) else v for k, v in self.fields.items()}
        return translate(self.msgid).format(**values)

    def __str__(self) -> str:
        return self.render()


def said(msgid: str, **fields: Any) -> Said:
    return Said(msgid, fields)


# -- device states (kiosk.hardware.device.State) and the panel's own "not asked yet" ------------------
STATES = {
    "online": N_("Working"),
    "offline": N_("Offline"),
    "busy": N_("Busy"),
    "hardware_error": N_("Hardware fault"),
    "no_device": N_("No device"),
    "unknown": N_("Not asked yet"),
}

# -- details of a status and causes of a failed command, by code (before any `:argument`) -------------
CAUSES = {
    # every device
    "no_answer": N_("no answer (check power, cable and connection)"),
    "no_device": N_("not connected, or the port cannot be opened"),
    "not_opened": N_("the port could not be opened"),
    "starting": N_("starting"),
    "bad_reply": N_("an answer that makes no sense"),
    "garbled_reply": N_("a garbled answer"),
    "bad_frames": N_("garbled answers on the line"),
    "bad_connection": N_("the connection setting is wrong"),
    "link_lost": N_("the connection was lost"),
    "write_timeout": N_("sending to the device timed out"),
    "canceled": N_("stopped"),
    "invalid_reply": N_("an answer that makes no sense"),
    # printers
    "paper_near_end": N_("paper running low"),
    "paper_out": N_("out of paper: load a new roll"),
    "paper_jam": N_("paper jam"),
    "cover_open": N_("cover open: close it"),
    "offline": N_("the printer reports itself offline"),
    "cutter_error": N_("the cutter is stuck"),
    "unrecoverable_error": N_("a fault the printer cannot recover from: switch it off and on"),
    "hardware_error": N_("a hardware fault"),
    "status_not_reported": N_("this printer does not report its status"),
    "bad_status_reply": N_("an unreadable status answer"),
    "toner_low": N_("toner running low"),
    "toner_out": N_("out of toner"),
    "connecting": N_("connecting to the printer"),
    "stopped": N_("the print queue is stopped"),
    "missing_filter": N_("CUPS lacks a filter for this printer"),
    "not_accepting_jobs": N_("the print queue does not accept jobs"),
    "job_canceled": N_("the print job was canceled"),
    "job_aborted": N_("the print job was aborted"),
    "job_timeout": N_("the print job did not finish in time"),
    "bad_document": N_("the document cannot be printed"),
    "bad_copies": N_("a number of copies out of range"),
    # the locker
    "door_open": N_("doors open: {arg}"),
    "door_not_opened": N_("door {arg} did not open (jammed lock, or the board's settings)"),
    "no_such_door": N_("no such door"),
    # the ID card reader
    "no_card": N_("no card on the reader"),
    "reading": N_("reading a card"),
    "invalid_card_data": N_("the card data cannot be read"),
    "select_failed": N_("the card could not be selected"),
    "read_failed": N_("the card could not be read"),
    "sam_self_test_failed": N_("the reader's security module failed its self-test"),
    "sam_not_authorised": N_("the reader's security module is not authorised"),
    "card_auth_failed": N_("the card could not be authenticated"),
    "sam_auth_failed": N_("the card could not be authenticated"),
    "auth_failed": N_("the card could not be authenticated"),
    "unknown_card_type": N_("a card type the reader does not know"),
    # the payment terminal
    "terminal_busy": N_("the terminal is busy"),
    "transaction_in_progress": N_("a payment is in progress"),
    "frame_refused": N_("the terminal refused our messages (check the line settings)"),
    "bad_amount": N_("an amount out of range"),
    "bad_reference": N_("a malformed reference"),
    # the scanner
    "waiting_for_scan": N_("waiting for a code"),
    "bad_scan": N_("a code that cannot be read"),
}

# -- what kind of failure, when the cause has no entry above (kiosk.hardware.device.Completion) -------
COMPLETIONS = {
    "success": N_("done"),
    "canceled": N_("stopped"),
    "timeout": N_("no answer in time"),
    "device_not_ready": N_("the device is not ready"),
    "hardware_error": N_("a hardware fault"),
    "user_error": N_("a request the device refused"),
    "invalid_data": N_("data that cannot be read"),
}


def state_label(state: str) -> str:
    """The msgid of a device state (the code itself when unknown: still worth showing)."""
    return STATES.get(state, state)


def cause(detail: str) -> Said:
    """A status detail or failure code in words; an unknown code is shown as itself."""
    code, _, arg = detail.partition(":")
    if code in CAUSES:
        return said(CAUSES[code], arg=arg.replace(",", ", "))
    return said(N_("code {code}"), code=detail)


def problem(completion: str, detail: str = "") -> Said:
    """Why a command failed: its cause when the code is known, else the kind of failure and the code."""
    code = detail.partition(":")[0]
    if code in CAUSES:
        return cause(detail)
    if code in OUTCOME_DETAILS:   # a payment whose outcome is unknown
        return said(OUTCOME_DETAILS[code])
    kind = COMPLETIONS.get(completion)
    if kind is None:
        return cause(detail or completion)
    return said(N_("{kind} (code {code})"), kind=said(kind), code=detail) if detail else said(kind)


# a payment's outcome (kiosk.hardware.payment Result) and what the terminal or the driver said of it
OUTCOMES = {"approved": N_("approved"), "declined": N_("declined"), "unknown": N_("outcome unknown")}
OUTCOME_DETAILS = {
    "rejected": N_("the card was refused"),
    "not_verified": N_("the cardholder was not verified"),
    "no_result": N_("no answer from the terminal"),
    "needs_manual_check": N_("no answer from the terminal: check the terminal's own record"),
    "link_lost": N_("the connection was lost"),
    "garbled_answer": N_("a garbled answer"),
    "mismatched_answer": N_("an answer to another payment"),
    "amount_mismatch": N_("an answer with another amount"),
    "canceled": N_("stopped"),
}


def outcome(result: str, detail: str = "") -> Said:
    """A payment's outcome, and the terminal's reason where it adds one."""
    head = said(OUTCOMES.get(result, result))
    if not detail or detail == result:
        return head
    why = said(OUTCOME_DETAILS[detail]) if detail in OUTCOME_DETAILS else cause(detail)
    return said(N_("{outcome} ({why})"), outcome=head, why=why)


# an A4 job's IPP state (kiosk.hardware.cups JobState, by its lower-case name)
JOB_STATES = {"pending": N_("waiting"), "held": N_("held"), "processing": N_("printing"),
              "stopped": N_("stopped"), "canceled": N_("canceled"), "aborted": N_("aborted"),
              "completed": N_("completed")}

# what a scanned code was taken for (kiosk.hardware.scanner CodeKind)
CODE_KINDS = {"pickup_code": N_("pickup code"), "wechat_pay": N_("WeChat Pay code"),
              "alipay": N_("Alipay code"), "other": N_("other code")}


def status(state: str, detail: str = "") -> Said:
    """A row's status: the state, and its detail where there is one."""
    if not detail:
        return said(state_label(state))
    return said(N_("{state} · {detail}"), state=said(state_label(state)), detail=cause(detail))


# -- the ID card as the read-card check shows it (the masked dict of kiosk.hardware.idcard Card.masked) --
CARD_FIELDS = {
    "name": N_("Name"),
    "id_number": N_("ID number"),
    "sex": N_("Sex"),
    "nation": N_("Ethnic group"),
    "nationality": N_("Nationality"),
    "birth": N_("Date of birth"),
    "valid_from": N_("Valid from"),
    "valid_to": N_("Valid until"),
    "card_type": N_("Card type"),
    "id_checksum_ok": N_("ID number check digit"),
    "birth_date_ok": N_("Date of birth matches the ID number"),
    "expired": N_("Expired"),
    "photo_bytes": N_("Photo"),
    "fingerprint_bytes": N_("Fingerprint data"),
    "problems": N_("Problems"),
}
_VALUES = {
    "sex": {"male": N_("male"), "female": N_("female"), "unknown": N_("not known"), "unstated": N_("not stated")},
    "card_type": {"resident": N_("resident ID card"),
                  "hk_mo_tw_residence": N_("residence permit for Hong Kong, Macao and Taiwan residents"),
                  "foreign_permanent": N_("foreign permanent resident ID card"),
                  "foreign_permanent_2023": N_("foreign permanent resident ID card (2023)")},
    "valid_to": {"long-term": N_("long-term")},
}
PROBLEMS = {
    "id_check_digit_wrong": N_("the ID number's check digit is wrong"),
    "id_birth_date_mismatch": N_("the date of birth does not match the ID number"),
    "expired": N_("the card has expired"),
    "not_yet_valid": N_("the card is not valid yet"),
}
_YES_NO = {"id_checksum_ok": (N_("correct"), N_("wrong")), "birth_date_ok": (N_("yes"), N_("no")),
           "expired": (N_("yes"), N_("no"))}


def card_lines(shown: Mapping[str, Any]) -> list[Said]:
    """The masked card, one labelled line per field it has (the masks are applied before: DESIGN.md 7)."""
    lines = []
    for key, value in shown.items():
        if value in (None, "", []) or key not in CARD_FIELDS:
            continue
        if key in _YES_NO:
            text: Any = said(_YES_NO[key][0] if value else _YES_NO[key][1])
        elif key in ("photo_bytes", "fingerprint_bytes"):
            text = said(N_("{n} bytes"), n=value)
        elif key == "problems":
            text = card_problem_list(list(value))
        elif key in _VALUES and value in _VALUES[key]:
            text = said(_VALUES[key][value])
        else:
            text = value   # masked name and number, the nation's own name, dates
        lines.append(said(N_("{label}: {value}"), label=said(CARD_FIELDS[key]), value=text))
    return lines


def card_problem_list(problems: list[str]) -> Said | str:
    """The card's problems (kiosk.hardware.idcard Card.problems) in words, one after another."""
    if not problems:
        return ""
    head = said(PROBLEMS.get(problems[0], problems[0]))
    if len(problems) == 1:
        return head
    return said(N_("{first}; {rest}"), first=head, rest=card_problem_list(problems[1:]))
