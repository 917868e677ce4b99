"""The one A4 job of kiosk/core/printing/job.py: what a poll reads from the job's and the queue's state, and
`follow`, the same poll in a loop for a worker that waits (the guides). Also the one `print` record."""
from __future__ import annotations

from kiosk.core.printing.job import A4Job, Printed, Printing, Stopped
from kiosk.core.printing.record import PrintRecord
from kiosk.hardware.cups import JobInfo, JobState
from kiosk.hardware.device import Completion, DeviceError, State, Status, VirtualClock

BUSY, ONLINE = Status(State.BUSY), Status(State.ONLINE)


class Queue:
    """One answer a poll: (job state, pages done, queue status), or an exception the printer raises."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = 0
        self.now = None
        self.canceled: list[int] = []

    def submit(self, pdf, title="kiosk", copies=1):
        return 7

    def job(self, job_id):
        self.now = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        if isinstance(self.now, Exception):
            raise self.now
        state, pages, _status = self.now
        return JobInfo(job_id, JobState(state), (), pages)

    def status(self):
        return self.now[2]

    def cancel_job(self, job_id):
        self.canceled.append(job_id)


def job_on(queue, clock, timeout_s=60.0) -> A4Job:
    return A4Job.submit(queue, "x.pdf", title="t", timeout_s=timeout_s, clock=clock.monotonic)


def follow(job, clock):
    seen = []
    end = job.follow(clock.sleep, 1.0, lambda info: seen.append((info.state_name, info.pages)))
    return end, seen


def test_a_job_is_followed_to_completed_with_each_change_reported_once():
    clock = VirtualClock()
    queue = Queue((3, 0, ONLINE), (3, 0, ONLINE), (5, 1, BUSY), (9, 2, None))
    end, seen = follow(job_on(queue, clock), clock)
    assert isinstance(end, Printed) and end.info.pages == 2
    assert seen == [("pending", 0), ("processing", 1), ("completed", 2)] and queue.canceled == []


def test_a_queue_that_cannot_go_on_stops_the_job_with_its_reason_and_cancels_it():
    clock = VirtualClock()
    queue = Queue((5, 1, BUSY), (5, 1, Status(State.OFFLINE, "paper_out")))
    end, _seen = follow(job_on(queue, clock), clock)
    assert isinstance(end, Stopped) and (end.cause, end.live) == ("paper_out", True)
    assert queue.canceled == [7]


def test_a_job_cups_aborted_says_the_queues_reason_when_there_is_one_and_is_not_canceled():
    clock = VirtualClock()
    for status, cause in ((ONLINE, "job_aborted"), (Status(State.OFFLINE, "cover_open"), "cover_open")):
        queue = Queue((8, 0, status))
        end = job_on(queue, clock).poll()
        assert isinstance(end, Stopped) and (end.cause, end.live) == (cause, False) and queue.canceled == []
    assert job_on(Queue((7, 0, ONLINE)), clock).poll().cause == "job_canceled"


def test_a_printer_that_does_not_answer_three_times_running_stops_the_job():
    clock = VirtualClock()
    lost = DeviceError("document_printer", Completion.DEVICE_NOT_READY, "CUPS does not answer", "no_answer")
    job = job_on(Queue(lost), clock)
    assert [type(job.poll()) for _ in range(2)] == [Printing, Printing]
    end = job.poll()
    assert isinstance(end, Stopped) and (end.cause, end.live) == ("no_answer", True)
    # answers in between start the count again
    queue = Queue(lost, lost, (5, 1, BUSY), lost, lost, (9, 1, None))
    end, _seen = follow(job_on(queue, clock), clock)
    assert isinstance(end, Printed) and queue.canceled == []


def test_a_job_past_its_deadline_is_stopped_and_canceled():
    clock = VirtualClock()
    queue = Queue((3, 0, ONLINE))
    start = clock.monotonic()
    end, _seen = follow(job_on(queue, clock, timeout_s=30), clock)
    assert isinstance(end, Stopped) and end.cause == "job_timeout" and queue.canceled == [7]
    assert 30 <= clock.monotonic() - start < 32


def test_the_print_record_has_one_shape_and_names_nothing_of_the_person():
    guide = PrintRecord(service="guides", source="guide", pages=1, printer="receipt", item_code="11010003",
                        job_state=None).to_data()
    document = PrintRecord(service="documents", source="released", pages=2, printer="a4", document="D-1",
                           amount_fen=100, payment_reference="K7Q2M9X4A1").to_data()
    assert set(guide) == set(document) == {"service", "source", "item_code", "document", "form_url", "pages",
                                           "copies", "printer", "amount_fen", "payment_reference", "job_state"}
    assert document["job_state"] == "completed" and guide["copies"] == document["copies"] == 1
