"""The staff deposit screen: a view of `DepositFlow` (kiosk/core/locker/deposit.py), one panel per step.

Taps go to the flow, which runs its blocking steps (scan, card, door) on its own executor; the
screen renders each change.

The case number is typed on the keypad or scanned; beside the options the
screen says what the platform knows of the case (looking it up, found: the
item, the rule, the masked mobile; not found or not reachable: a calm note,
the deposit goes on as staff set it). The holder's ID number is typed (digits
and X) or read from the card, unless the case gave it. The pickup code is
shown once, in the CODE step, with how it reaches the applicant, and
forgotten when staff tap "Next item".
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.core.privacy import mask_id_number
from kiosk.i18n import N_, _
from kiosk.screens import locker_widgets
from kiosk.screens.locker_widgets import LockerFlowScreen

NOTICES = {
    "bad_case_number": N_("A case number has 4 to 40 letters, digits or dashes."),
    "case_number_looks_like_id": N_("That looks like an ID number, not a case number."),
    "bad_id_number": N_("That ID number is not valid. Check the last character."),
    "no_card": N_("No ID card was read. Place the card on the reader and try again."),
    "card_not_read": N_("The card could not be read. Place it again and try again."),
    "no_scan": N_("Nothing was scanned. Type the case number, or scan again."),
    "close_the_door": N_("The door is still open. Push it until it clicks shut."),
}
SIZES = {"small": N_("Small"), "medium": N_("Medium"), "large": N_("Large")}
LOOKUP = {
    "looking": N_("Looking the case up on the platform…"),
    "not_found": N_("This case was not found on the platform. Choose the pickup rule and take the holder as usual."),
    "unreachable": N_("The platform cannot be reached just now. You can deposit as usual."),
}
ENDED = {
    "collected": N_("The platform says this case's item was already collected. Check before depositing."),
    "recalled": N_("The platform says this case's item was already returned to the window. "
                   "Check before depositing."),
}
HANDOVER = {
    "text": N_("The platform will text the code to the applicant ({phone})."),
    "text_once_known": N_("The platform will text the code to the applicant once it has the case."),
    "no_phone": N_("The platform has no mobile number for this case: give this code to the applicant."),
    "staff": N_("No text message will be sent: give this code to the applicant."),
}


class DepositScreen(LockerFlowScreen):
    step = StringProperty("case")
    typed = StringProperty("")
    notice = StringProperty("")
    item_size = StringProperty("medium")
    require_id = BooleanProperty(True)
    prefer_low = BooleanProperty(False)
    door = NumericProperty(0)
    column = NumericProperty(0)
    row = NumericProperty(0)
    code = StringProperty("")
    case_number = StringProperty("")
    has_scanner = BooleanProperty(False)
    has_reader = BooleanProperty(False)
    lookup = StringProperty("none")     # what the platform said of the case (deposit.Lookup)
    item_name = StringProperty("")
    phone = StringProperty("")          # masked
    holder_from_case = BooleanProperty(False)
    days_held = NumericProperty(0)
    case_ended = StringProperty("")     # collected | recalled, as the platform says
    handover = StringProperty("staff")  # how the code reaches the applicant (deposit.Handover)

    flow_name = "deposit"

    def __init__(self, app, service, **kwargs):
        super().__init__(app, service, name="staff_deposit", first_panel="case", **kwargs)
        self.hold(app.session.on("wipe", self._on_wipe))

    def flow_bound(self, service, flow) -> None:
        self.has_scanner = flow.scanner is not None
        self.has_reader = flow.idcard is not None

    def on_pre_enter(self, *_a):
        staff = self.app.screens.get_screen("staff").signed_in
        flow = self.flow
        if flow is None or not staff:
            return
        self.typed = ""
        flow.begin(staff)
        self.render()

    def _on_wipe(self, _reason) -> None:
        """Nothing typed for one deposit (a case number, part of a holder's ID number) outlives the visit."""
        self.typed = self.notice = self.code = self.case_number = ""
        self.item_name = self.phone = self.case_ended = ""
        self.door = 0

    def on_leave(self, *_a):
        flow = self.flow
        if flow is not None:
            flow.cancel()
            flow.abandon_item()         # after the step under way

    # --- taps -------------------------------------------------------------------------------------
    def key(self, key: str) -> None:
        limit = 40 if self.step == "case" else 18
        if key == "clear":
            self.typed = ""
        elif key == "back":
            self.typed = self.typed[:-1]
        elif len(self.typed) < limit:
            self.typed += key

    def submit_case(self) -> None:
        if self.flow.set_case(self.typed):
            self.typed = ""

    def scan_case(self) -> None:
        self.flow.scan_case(30.0)

    def choose(self, **kw) -> None:
        self.flow.choose(**kw)

    def confirm_options(self) -> None:
        self.flow.confirm_options()

    def submit_holder(self) -> None:
        typed, self.typed = self.typed, ""
        self.flow.set_holder_number(typed)

    def read_card(self) -> None:
        self.flow.read_holder_card()

    def next_item(self) -> None:
        self.flow.code_seen()

    def back_to_menu(self) -> None:
        self.app.screens.current = "staff"

    # --- showing the flow -------------------------------------------------------------------------
    def render(self) -> None:
        flow = self._flow
        if flow is None:
            return
        self.step = flow.step.value
        self.notice = flow.notice.value if flow.notice else ""
        self.item_size, self.require_id, self.prefer_low = flow.size, flow.require_id, flow.prefer_low
        self.case_number = flow.case_number
        self.code = flow.code or ""
        self.lookup = flow.lookup.value
        self.item_name, self.phone = flow.item_name or "", flow.phone_masked or ""
        self.holder_from_case, self.days_held = flow.holder_from_case, flow.days_held
        self.case_ended = (flow.case.ended or "") if flow.case else ""
        self.handover = flow.handover.value
        if flow.door:
            self.door = flow.door
            d = self._service.plan.doors.get(flow.door)
            if d is not None:
                self.column, self.row = d.column, d.row
        self.panels.show(self.step)

    def notice_text(self, notice: str, *_lang) -> str:
        return _(NOTICES[notice]) if notice in NOTICES else ""

    def lookup_text(self, lookup: str, *_lang) -> str:
        return _(LOOKUP[lookup]) if lookup in LOOKUP else ""

    def rule_text(self, require_id: bool, from_case: bool, days: int, phone: str, *_lang) -> str:
        """The found case's rules and the applicant's masked mobile, a line each."""
        if not require_id:
            rule = _("No ID card is needed at pickup.")
        elif from_case:
            rule = _("The holder shows the ID card at pickup; the platform gave the holder, so no card is read now.")
        else:
            rule = _("The holder shows the ID card at pickup; read or type the holder's ID number next.")
        lines = [rule, _("Held for {days} days, then returned to the window.").format(days=int(days))]
        if phone:
            lines.append(_("Applicant's mobile: {phone}").format(phone=phone))
        return "\n".join(lines)

    def ended_text(self, ended: str, *_lang) -> str:
        return _(ENDED[ended]) if ended in ENDED else ""

    def handover_text(self, handover: str, phone: str, *_lang) -> str:
        return _(HANDOVER[handover]).format(phone=phone) if handover in HANDOVER else ""

    def size_text(self, size: str, *_lang) -> str:
        return _(SIZES[size])

    def typed_id(self, typed: str) -> str:
        # the full number is on screen only while staff type it; once 18 long it shows masked
        return mask_id_number(typed) if len(typed) >= 15 else typed

    def place_text(self, column, row, *_lang) -> str:
        return locker_widgets.door_place(int(column), int(row), ("", ""))


Builder.load_file(str(Path(__file__).with_name("staff_deposit.kv")))
