"""A guide being printed, and how it went: job progress, then done or a calm failure message.

Job progress comes from the flow (CUPS job state and pages for A4); the
citizen reads it in plain words. A failure says what happened in one calm
sentence and what to do next; the technician's detail went to the log and to
an alarm.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.guides.flow import A4, FAILED_NEXT, PrintPhase
from kiosk.i18n import N_
from kiosk.screens import kiosk_face  # noqa: F401  (KioskFace in guides_print.kv)
from kiosk.screens import guides_widgets  # noqa: F401  (shared guide widgets)

# CUPS job states in the citizen's words (msgids)
JOB_WORDS = {
    "": N_("Sending your guide to the printer…"),
    "preparing": N_("Preparing your guide…"),
    "pending": N_("Waiting for the printer…"),
    "held": N_("Waiting for the printer…"),
    "processing": N_("Printing…"),
    "completed": N_("Printed"),
}
TITLE_PRINTING = N_("Printing your guide")
TITLE_DONE = N_("Your guide has been printed")
TITLE_FAILED = N_("Your guide could not be printed")
TAKE_RECEIPT = N_("Please take it from the receipt slot below the screen.")
TAKE_A4 = N_("Please take it from the A4 paper tray.")
CANNOT_STOP = N_("Printing cannot be stopped halfway. You can leave as soon as it is done.")
NEXT_FAILED = FAILED_NEXT


class GuidePrintView(Screen):
    flow = ObjectProperty()
    title = StringProperty()       # msgid
    line = StringProperty()        # msgid: the job's state, the outcome
    hint = StringProperty()        # msgid: what to do now
    item_name = StringProperty()
    pages_done = NumericProperty(0)
    pages = NumericProperty(0)
    busy = BooleanProperty(False)
    failed = BooleanProperty(False)
    exit = StringProperty()        # where the paper comes out ("receipt" or "a4"), lit on the kiosk's picture

    def show(self, aspects: set[str]) -> None:
        state = self.flow.printing
        if "print" not in aspects:
            return
        if state is None:   # the visit ended: nothing of its print stays on the view
            self.item_name = self.title = self.line = self.hint = ""
            self.busy = self.failed = False
            self.pages = self.pages_done = 0
            self.exit = ""
            return
        self.item_name = self.flow.item.name if self.flow.item else ""
        self.busy = state.phase is PrintPhase.PRINTING
        self.failed = state.phase is PrintPhase.FAILED
        self.pages = state.pages if state.kind == A4 else 0
        self.exit = "" if self.failed else ("a4" if state.kind == A4 else "receipt")
        self.pages_done = state.pages_done
        if state.phase is PrintPhase.PRINTING:
            self.title = TITLE_PRINTING
            self.line = JOB_WORDS.get(state.job_state, JOB_WORDS["processing"])
            self.hint = CANNOT_STOP
        elif state.phase is PrintPhase.DONE:
            self.title = TITLE_DONE
            self.line = ""
            self.hint = TAKE_A4 if state.kind == A4 else TAKE_RECEIPT
        else:
            self.title = TITLE_FAILED
            self.line = state.message
            self.hint = NEXT_FAILED


Builder.load_file(str(Path(__file__).with_name("guides_print.kv")))
