"""The A4 printer through a real, private CUPS (kiosk/tour/cupsd.py) printing to cups-pdf: a job followed to
completed with its page count, and the faults a technician meets (stopped queue, queue not accepting
jobs, a failing printer under abort-job and under stop-printer, no queue, no CUPS) with recovery."""
import plistlib
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.cups import CupsPrinter, PrinterInfo, parse_ipptool_plist, printer_uri, split_reason
from kiosk.hardware.device import Completion, DeviceError

from tests.conftest import ROOT, run_kiosk, write_config  # noqa: E402
from kiosk.tour.cupsd import PrivateCupsd  # noqa: E402

needs_cupsd = pytest.mark.skipif(PrivateCupsd.unavailable() is not None,
                                 reason=PrivateCupsd.unavailable() or "")


def make_pdf(path: Path, pages: int) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for n in range(pages):
        c.drawString(72, 720, f"page {n + 1}")
        c.showPage()
    c.save()
    return path


@pytest.fixture(scope="module")
def cupsd():
    server = PrivateCupsd().start()
    server.add_queue("a4")
    server.add_queue("broken-abort", uri="fail:/", policy="abort-job")
    server.add_queue("broken-stop", uri="fail:/", policy="stop-printer")
    yield server
    server.stop()


@pytest.fixture
def pdf(tmp_path):
    return make_pdf(tmp_path / "two-pages.pdf", 2)


# --- a real job ------------------------------------------------------------------------------------

@needs_cupsd
def test_a_pdf_job_goes_through_cups_pdf_to_completed_with_its_page_count(cupsd, pdf):
    printer = CupsPrinter("document_printer", "a4", server=cupsd.socket)
    assert printer.status().as_dict() == {"state": "online", "detail": ""}
    job = printer.print_pdf(pdf, title="two pages")
    assert (job.state, job.state_name) == (9, "completed")
    assert job.pages == 2
    assert any(p.suffix == ".pdf" for p in cupsd.out_dir.iterdir())
    printer.close()


@needs_cupsd
def test_self_test_reports_the_queue_and_its_error_policy(cupsd):
    printer = CupsPrinter("document_printer", "a4", server=cupsd.socket)
    test = printer.self_test()
    assert test.ok and "a4" in test.message and "idle" in test.message
    assert printer.printer_info().error_policy == "abort-job"


# --- faults ----------------------------------------------------------------------------------------

@needs_cupsd
def test_a_stopped_queue_is_offline_refuses_jobs_and_recovers_when_enabled(cupsd, pdf):
    printer = CupsPrinter("document_printer", "a4", server=cupsd.socket)
    cupsd.run("cupsdisable", "-r", "paper jam cleared by staff?", "a4", check=True)
    try:
        assert printer.status().as_dict() == {"state": "offline", "detail": "stopped"}
        assert printer.printer_info().state_name == "stopped"
        with pytest.raises(DeviceError) as err:
            printer.print_pdf(pdf)
        assert err.value.completion is Completion.DEVICE_NOT_READY and err.value.detail == "stopped"
    finally:
        cupsd.run("cupsenable", "a4", check=True)
    assert printer.status().state.value == "online"
    assert printer.print_pdf(pdf).state == 9


@needs_cupsd
def test_a_queue_not_accepting_jobs_is_offline_and_lp_refusal_is_reported(cupsd, pdf):
    printer = CupsPrinter("document_printer", "a4", server=cupsd.socket)
    cupsd.run("cupsreject", "a4", check=True)
    try:
        assert printer.status().as_dict() == {"state": "offline", "detail": "not_accepting_jobs"}
        with pytest.raises(DeviceError) as err:
            printer.submit(pdf)
        assert err.value.detail == "not_accepting_jobs"
    finally:
        cupsd.run("cupsaccept", "a4", check=True)
    assert printer.status().state.value == "online"


@needs_cupsd
def test_a_failing_printer_under_abort_job_aborts_the_job_and_keeps_the_queue_up(cupsd, pdf):
    printer = CupsPrinter("document_printer", "broken-abort", server=cupsd.socket)
    with pytest.raises(DeviceError) as err:
        printer.print_pdf(pdf)
    assert err.value.completion is Completion.HARDWARE_ERROR and err.value.detail == "job_aborted"
    assert printer.status().state.value == "online"    # the next citizen is not blocked


@needs_cupsd
def test_a_failing_printer_under_stop_printer_stops_the_queue(cupsd, pdf):
    printer = CupsPrinter("document_printer", "broken-stop", server=cupsd.socket, timeouts={"job": 2.0})
    job_id = printer.submit(pdf)
    with pytest.raises(DeviceError) as err:
        printer.wait(job_id)
    # the job waits forever on a stopped queue: the driver gives up and cancels it
    assert err.value.completion is Completion.TIMEOUT and err.value.detail == "job_timeout"
    assert printer.job(job_id).state_name == "canceled"
    assert printer.status().as_dict() == {"state": "offline", "detail": "stopped"}
    assert "abort-job" in printer.self_test().message
    cupsd.run("cupsenable", "broken-stop")


@needs_cupsd
def test_a_queue_that_does_not_exist_is_no_device(cupsd):
    printer = CupsPrinter("document_printer", "no-such-queue", server=cupsd.socket)
    assert printer.status().as_dict() == {"state": "no_device", "detail": "no_queue"}
    assert "cups-sim-queue.sh" in printer.self_test().message


def test_cups_not_running_is_offline_no_answer(tmp_path):
    printer = CupsPrinter("document_printer", "sim", server=str(tmp_path / "no-cupsd.sock"))
    assert printer.status().as_dict() == {"state": "offline", "detail": "no_answer"}
    assert "is cupsd running" in printer.self_test().message


@needs_cupsd
def test_a_file_that_is_not_a_pdf_is_refused_before_cups_sees_it(cupsd, tmp_path):
    bad = tmp_path / "letter.pdf"
    bad.write_text("hello")
    printer = CupsPrinter("document_printer", "a4", server=cupsd.socket)
    with pytest.raises(DeviceError) as err:
        printer.print_pdf(bad)
    assert err.value.completion is Completion.INVALID_DATA


# --- the set-up script and the CLI -----------------------------------------------------------------

@needs_cupsd
def test_setup_script_creates_the_sim_queue_with_abort_job(cupsd, tmp_path):
    out = tmp_path / "pdfs"
    done = subprocess.run([str(ROOT / "scripts" / "cups-sim-queue.sh"), "--name", "sim-script", "--out", str(out)],
                          capture_output=True, text=True, env=cupsd.env, timeout=60)
    try:
        assert done.returncode == 0, done.stderr
        info = CupsPrinter("document_printer", "sim-script", server=cupsd.socket).printer_info()
        assert info.error_policy == "abort-job" and info.device_uri == "cups-pdf:/sim-script"
    finally:
        Path("/etc/cups/cups-pdf-sim-script.conf").unlink(missing_ok=True)


@needs_cupsd
def test_cli_print_a4_test_completes_on_a_configured_cups_server(cupsd, tmp_path):
    config = write_config(tmp_path / "kiosk", **{r'^printer = "sim".*$': f'printer = "a4"\nserver = "{cupsd.socket}"'})
    done = run_kiosk("diag", "print-a4-test", "--json", config=config)
    assert done.returncode == 0, done.stderr
    import json

    doc = json.loads(done.stdout)
    assert doc["printed"] is True and doc["job"]["state_name"] == "completed" and doc["job"]["pages"] == 1


# --- pure parts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("state, reasons, accepting, expected", [
    (3, (), True, ("online", "")),
    (4, (), True, ("busy", "")),
    (3, ("media-low-warning",), True, ("online", "paper_near_end")),
    (5, ("media-empty-error",), True, ("offline", "paper_out")),
    (3, ("media-needed-error",), True, ("offline", "paper_out")),
    (3, ("media-jam-error",), True, ("hardware_error", "paper_jam")),
    (3, ("door-open-error",), True, ("offline", "cover_open")),
    (5, ("paused",), True, ("offline", "stopped")),
    (5, ("paused", "media-empty-warning"), True, ("offline", "paper_out")),
    (3, (), False, ("offline", "not_accepting_jobs")),
    (3, ("toner-low-report",), True, ("online", "toner_low")),
])
def test_printer_state_and_reasons_map_to_the_status_a_technician_expects(state, reasons, accepting, expected):
    status = PrinterInfo(state, reasons, accepting).as_status()
    assert (status.state.value, status.detail) == expected


def test_reason_suffixes_say_how_bad():
    assert split_reason("media-empty-error") == ("media-empty", "error")
    assert split_reason("toner-low-warning") == ("toner-low", "warning")
    assert split_reason("paused") == ("paused", "report")


def test_ipptool_uri_of_a_socket_and_of_a_host():
    assert printer_uri("/run/cups/cups.sock", "sim") == "ipp://%2Frun%2Fcups%2Fcups.sock/printers/sim"
    assert printer_uri("printhost", "a4") == "ipp://printhost:631/printers/a4"
    assert printer_uri("127.0.0.1:6310", "a4") == "ipp://127.0.0.1:6310/printers/a4"


def test_ipptool_plist_with_a_job_answer():
    doc = {"Tests": [{"StatusCode": "successful-ok", "ResponseAttributes": [
        {"attributes-charset": "utf-8"}, {"job-state": 8, "job-state-reasons": "aborted-by-system"}]}]}
    code, attrs, _ = parse_ipptool_plist(plistlib.dumps(doc))
    assert code == "successful-ok" and attrs["job-state"] == 8


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_ipptool_output_parser_never_raises(data):
    parse_ipptool_plist(data)

