"""The A4 test page as the technician's panel prints it: through a private cupsd to cups-pdf, whose PDF is
remade by ghostscript from PostScript, where only the fonts' glyph names say what the characters are
(kiosk/core/printing/glyph_names.py). Its Chinese title and the hall's name are read back from the paper."""
from __future__ import annotations

from kiosk.core.background import Inline
from kiosk.core.technician.bench import DeviceBench
from kiosk.core.technician.test_page import TITLE, write_test_page
from tests.test_form_render import cups_pdf_output, cupsd, needs_cupsd, text_of  # noqa: F401 (cupsd: a fixture)

HALL = "示例政务服务中心"


@needs_cupsd
def test_the_test_page_printed_to_cups_pdf_reads_as_its_chinese_title_and_the_hall(cupsd):
    from kiosk.hardware.cups import CupsPrinter

    printer = CupsPrinter("document_printer", "a4", server=cupsd.socket, timeouts={"poll_interval": 0.1, "job": 60})
    before = set(cupsd.out_dir.glob("*.pdf"))
    bench = DeviceBench({"document_printer": printer}, executor=Inline(), test_page=write_test_page, hall=HALL)
    try:
        bench.run("document_printer", "print_a4")
    finally:
        printer.close()
    assert bench.results["document_printer"].ok, bench.results["document_printer"].lines
    text = text_of(cups_pdf_output(cupsd, before))
    assert TITLE in text and HALL in text, text
