"""Every device decoder against replies framed correctly around mutated contents (issue 24, item 12).

Random bytes almost never pass a frame's length and check byte, so fuzzing a decoder with them
tests its framing and little else. Here a good reply (from the protocol's own encoder or
simulator) is mutated, byte by byte or field by field, and then framed again with its length and
check byte recomputed, so every mutation reaches the field parsers behind the frame check. The
rule: a decoder returns a value or raises ProtocolError; never IndexError, ValueError,
UnicodeDecodeError, KeyError, and never a hang.
"""
from __future__ import annotations

import datetime as dt
import plistlib
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware import cups, idcard, locker_8a, locker_kerong, payment
from kiosk.hardware.device import DeviceError, ProtocolError, VirtualClock
from kiosk.hardware.escpos_stream import EscPosStream, decode_receipts
from kiosk.hardware.idcard import SamReader
from kiosk.hardware.locker import LockBoard, Locker, protocol_for
from kiosk.hardware.payment import ConcertTerminal, Result
from kiosk.hardware.receipt import Receipt, render
from kiosk.hardware.scanner import MAX_CODE, LineSplitter, SerialScanner, classify
from kiosk.sim import idcard as sim_idcard
from kiosk.sim.base import SimPort
from kiosk.sim.idcard import SamSimulator
from kiosk.sim.locker import LockerSimulator
from kiosk.sim.payment import ConcertSimulator
from kiosk.sim.scanner import ScannerSimulator

FUZZ = settings(max_examples=300, deadline=None, derandomize=True)
TODAY = dt.date(2026, 12, 5)

# bytes that mean something to some decoder: NUL, space, digits' edges, DEL, UCS-2 surrogate
# halves, the framing bytes of every protocol here, CR and LF
SPECIAL_BYTES = st.sampled_from(b"\x00\x01\x02\x03\x0a\x0d\x11\x20\x2f\x30\x39\x3a\x33\x35\x36\x7f\x80\x8a\x90"
                                b"\x9f\xaa\xd8\xdb\xdc\xdf\xfe\xff")
BYTE = st.one_of(st.integers(0, 255), SPECIAL_BYTES)


def mutations(reach: int, resize: bool = True):
    """A few edits of a byte string; positions are taken modulo its length, mostly within `reach`.
    `resize=False`: bytes changed in place only, so length fields inside the payload still agree."""
    position = st.one_of(st.integers(0, reach), st.integers(0, 1 << 16))
    edits = [st.tuples(st.just("set"), position, BYTE)]
    if resize:
        edits += [st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=8)),
                  st.tuples(st.just("delete"), position, st.integers(1, 16))]
    return st.lists(st.one_of(*edits), min_size=1, max_size=6)


def mutate(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for op, pos, arg in edits:
        at = pos % (len(out) + 1)
        if op == "set" and out:
            out[min(at, len(out) - 1)] = arg
        elif op == "insert":
            out[at:at] = arg
        elif op == "delete":
            del out[at:at + arg]
    return bytes(out)


# --- ID card reader (SAM): frames, read replies, text blocks ------------------------------------

def read_reply_data(card: sim_idcard.SimCard, fingerprint: bool) -> bytes:
    """The data of a 30 01 / 30 10 reply, as the reader sends it."""
    text, photo = card.text_block(), card.photo
    lengths = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    blocks = text + photo
    if fingerprint:
        lengths += len(card.fingerprint).to_bytes(2, "big")
        blocks += card.fingerprint
    return lengths + blocks


CARDS = sorted(sim_idcard.CARDS)


def use_card(card: idcard.Card) -> None:
    """What the kiosk does with a card it read: its problems, its masked form, its repr."""
    card.problems(TODAY)
    card.masked(TODAY)
    repr(card)


@FUZZ
@given(st.sampled_from(CARDS), st.booleans(), st.one_of(mutations(270, resize=False), mutations(270)))
def test_a_framed_read_reply_with_a_mutated_body_gives_a_card_or_protocol_error(name, fingerprint, edits):
    body = bytes([0x00, 0x00, 0x90]) + read_reply_data(sim_idcard.CARDS[name](), fingerprint)
    frame = idcard.encode_frame(mutate(body, edits))
    try:
        reply = idcard.decode_reply(frame)
        use_card(idcard.parse_read_reply(reply.data, fingerprint))
    except ProtocolError:
        pass


@FUZZ
@given(st.sampled_from([b"", bytes(4), bytes(8), sim_idcard.SAM_ID_BYTES, "北京市示例路2号".encode("utf-16-le")]),
       st.sampled_from([0x90, 0x9F, 0x91, 0x80, 0x10, 0x11]), mutations(40))
def test_a_framed_short_reply_with_a_mutated_body_decodes_or_raises_protocol_error(data, sw3, edits):
    frame = idcard.encode_frame(mutate(bytes([0x00, 0x00, sw3]) + data, edits))
    try:
        reply = idcard.decode_reply(frame)
    except ProtocolError:
        return
    assert frame[7:-1] == bytes([reply.sw1, reply.sw2, reply.sw3]) + reply.data
    assert isinstance(reply.detail, str)


# where each layout keeps its text fields (offset, size in bytes): parse_text's table
TEXT_FIELDS = {
    " ": [(0, 30), (30, 2), (32, 4), (36, 16), (52, 70), (122, 36), (158, 30), (188, 16), (204, 16), (248, 2)],
    "J": [(0, 30), (30, 2), (36, 16), (122, 36), (188, 16), (204, 16), (220, 18), (238, 4), (248, 2)],
    "I": [(0, 120), (120, 2), (122, 30), (152, 6), (158, 30), (188, 16), (204, 16), (220, 16), (236, 4),
          (240, 8), (248, 2)],
    "Y": [(0, 30), (30, 2), (32, 4), (36, 16), (52, 70), (122, 36), (188, 16), (204, 16), (220, 22), (242, 6),
          (250, 6), (248, 2)],
}
# characters that look like what a field wants, and are not: other scripts' digits, full-width
# digits, superscripts, lone surrogates (not UCS-2), NUL, the long-term mark, a flag letter
HOSTILE_TEXT = st.text(alphabet=st.one_of(
    st.sampled_from(list("0123456789X xIJY长期²٣０９\x00\ud800\udc00-+.年月日😀")), st.characters()), max_size=20)


def put(block: bytes, offset: int, size: int, text: str) -> bytes:
    raw = text.encode("utf-16-le", "surrogatepass")[:size]
    raw += " ".encode("utf-16-le") * ((size - len(raw)) // 2)   # fields are padded with spaces
    return block[:offset] + raw + block[offset + size:]


@FUZZ
@given(st.sampled_from(CARDS), st.data())
def test_text_fields_replaced_with_lookalike_text_give_a_card_or_protocol_error(name, data):
    sim_card = sim_idcard.CARDS[name]()
    block = sim_card.text_block()
    fields = TEXT_FIELDS[sim_card.flag]
    for offset, size in data.draw(st.lists(st.sampled_from(fields), min_size=1, max_size=4)):
        block = put(block, offset, size, data.draw(HOSTILE_TEXT))
    assert len(block) == idcard.TEXT_SIZE
    try:
        use_card(idcard.parse_card(block, sim_card.photo))
    except ProtocolError:
        pass


# --- payment terminal (Concert protocol E) -------------------------------------------------------

def concert_frame(payload: bytes) -> bytes:
    """STX payload ETX LRC around any bytes (the codec's own encoder takes ASCII text only)."""
    body = payload + bytes([payment.ETX])
    return bytes([payment.STX]) + body + bytes([payment.lrc(body)])


GOOD_RESPONSES = [
    payment.encode_response(payment.Response("01", result, amount, "1", "156", "REF0000001", rest))
    for result, amount, rest in (("0", 100, ""), ("7", 0, ""), ("9", 99_999_999, "0000123456"))]


@FUZZ
@given(st.sampled_from(GOOD_RESPONSES), mutations(30))
def test_a_framed_result_with_a_mutated_payload_decodes_or_raises_protocol_error(payload, edits):
    frame = concert_frame(mutate(payload.encode("ascii"), edits))
    try:
        resp = payment.decode_response(payment.decode_frame(frame))
    except ProtocolError:
        return
    assert resp.result in payment.RESULT_CODES and 0 <= resp.amount_fen <= payment.MAX_AMOUNT


# the fields of a result payload (start, end): pos, result, amount, mode, currency, reference
RESPONSE_FIELDS = [(0, 2), (2, 3), (3, 11), (11, 12), (12, 15), (15, 25)]


@FUZZ
@given(st.sampled_from(GOOD_RESPONSES), st.sampled_from(RESPONSE_FIELDS), HOSTILE_TEXT)
def test_a_result_field_replaced_with_lookalike_text_decodes_or_raises_protocol_error(payload, field, text):
    start, end = field
    mutated = payload[:start] + text + payload[end:]
    frame = concert_frame(mutated.encode("utf-8", "surrogatepass"))
    try:
        resp = payment.decode_response(payment.decode_frame(frame))
    except ProtocolError:
        return
    assert resp.amount_fen >= 0


@FUZZ
@given(mutations(36))
def test_a_framed_request_with_a_mutated_payload_decodes_or_raises_protocol_error(edits):
    """The terminal simulator's side: what the kiosk sent, damaged on the line."""
    good = payment.encode_request(payment.Request("01", 100, "0", "156", "REF0000001"))
    try:
        payment.decode_request(payment.decode_frame(concert_frame(mutate(good.encode("ascii"), edits))))
    except ProtocolError:
        pass


# --- locker boards (8A, Kerong) ------------------------------------------------------------------

BOARDS_8A = [LockBoard(1, 24), LockBoard(2, 32, open_status=0x00, closed_bit=0, reply_headers=(0x8A,)),
             LockBoard(64, 1)]
BOARDS_KERONG = [LockBoard(0, 16), LockBoard(15, 3, closed_bit=0)]


def framed_8a(inner: bytes) -> bytes:
    return locker_8a.frame(*inner)


def framed_kerong(inner: bytes) -> bytes:
    """02 inner 03 SUM: inner is ADDR CMD D1..D4."""
    body = bytes([locker_kerong.STX]) + inner + bytes([locker_kerong.ETX])
    return body + bytes([locker_kerong.checksum(body)])


def decode_board_reply_or_refuse(driver: str, frame: bytes, expect: str, boards: list[LockBoard]) -> None:
    by_address = {b.address: b for b in boards}
    try:
        report = protocol_for(driver).decode_reply(frame, expect, by_address)
    except ProtocolError:
        return
    assert all(1 <= lock <= by_address[report.address].doors for lock in report.locks)


@FUZZ
@given(st.sampled_from(["door", "board"]), st.lists(BYTE, min_size=3, max_size=9), mutations(8))
def test_8a_replies_with_a_right_check_byte_decode_or_raise_protocol_error(expect, body, edits):
    good = (locker_8a.encode_board_reply(1, [True] * 24) if expect == "board"
            else locker_8a.encode_door_reply(1, 3, True))
    for inner in (bytes(body), mutate(good[:-1], edits)):
        decode_board_reply_or_refuse("lock8a", framed_8a(inner), expect, BOARDS_8A)


@FUZZ
@given(st.sampled_from(["door", "board", "bus"]), st.lists(BYTE, min_size=4, max_size=8), mutations(8))
def test_kerong_replies_with_a_right_sum_decode_or_raise_protocol_error(expect, data, edits):
    cmd = locker_kerong.REPLY_BUS if expect == "bus" else locker_kerong.REPLY_STATUS
    good = locker_kerong.encode_status_reply(0, [True] * 16, [False] * 16, cmd=cmd)
    for inner in (bytes(data), mutate(good[1:-2], edits)):
        decode_board_reply_or_refuse("kerong", framed_kerong(inner), expect, BOARDS_KERONG)


@FUZZ
@given(st.sampled_from(["lock8a", "kerong"]), st.lists(st.tuples(st.binary(max_size=6), mutations(8)), max_size=4))
def test_reply_search_over_framed_mutated_replies_makes_progress_and_raises_nothing(driver, parts):
    protocol = protocol_for(driver)
    boards = {b.address: b for b in (BOARDS_8A if driver == "lock8a" else BOARDS_KERONG)}
    good = (locker_8a.encode_door_reply(1, 3, False) if driver == "lock8a"
            else locker_kerong.encode_status_reply(0, [True] * 16, [False] * 16))
    buf = b""
    for noise, edits in parts:
        buf += noise + (framed_8a(mutate(good[:-1], edits)) if driver == "lock8a"
                        else framed_kerong(mutate(good[1:-2], edits)))
    expect = "door" if driver == "lock8a" else "board"
    for _ in range(len(buf) + 1):          # every call consumes or keeps a partial tail: never a loop
        report, used = protocol.find_reply(buf, expect, boards)
        assert 0 <= used <= len(buf)
        if report is None and used == 0:
            break
        buf = buf[used:]
        if not buf:
            break
    else:
        pytest.fail("the reply search did not finish")


# --- scanner (CR/LF-terminated lines) --------------------------------------------------------------

GOOD_SCANS = [b"123456", b"KIOSK-PICKUP:12345678", b"134567890123456789", b"2812345678901234",
              "取件码 BJ2026-0001".encode("utf-8"), "取件码".encode("gb18030"), b"https://example.gov.cn/a?b=1"]
LINE_ENDS = st.sampled_from([b"\r", b"\n", b"\r\n", b"\n\r", b"\r\n\r\n"])


def decoded(raw: bytes) -> str | None:
    """What the splitter should make of one line, None when it is not text (or blank)."""
    if not raw.strip() or len(raw) > MAX_CODE:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            pass
    return None


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(GOOD_SCANS), mutations(24), st.booleans(), LINE_ENDS), min_size=1,
                max_size=8),
       st.lists(st.integers(1, 64), min_size=1, max_size=8))
def test_lines_of_mutated_codes_come_out_whole_in_order_and_a_bad_one_loses_no_good_one(lines, cuts):
    wire, expected, bad = b"", [], 0
    for good, edits, damaged, end in lines:
        raw = mutate(good, edits).replace(b"\r", b"").replace(b"\n", b"") if damaged else good
        wire += raw + end
        if (text := decoded(raw)) is not None:
            expected.append(text)
        elif raw.strip():
            bad += 1
    splitter, got, pos, i = LineSplitter(), [], 0, 0
    while pos < len(wire):                  # the wire in chunks, as reads return it
        size = cuts[i % len(cuts)]
        chunk, pos, i = wire[pos:pos + size], pos + size, i + 1
        got += splitter.feed(chunk)
    assert got == expected
    assert len(splitter.take_rejected()) == bad
    for line in got:
        classify(line)


# --- the drivers, against simulators whose replies are mutated and framed again ------------------
# What a field parser lets through, the driver must still turn into a value or a DeviceError,
# in bounded (virtual) time: the SAM fuzzer of the attack went this way.

DRIVER_FUZZ = settings(max_examples=150, deadline=None, derandomize=True)


def mutate_replies(sim, reframe, edits, which: set[int]) -> list[bytes]:
    """Make `sim` mutate the contents of its `which`-th whole replies (0 = the first) and frame them
    again with `reframe(frame, edits)`; returns the list of what it sent, for the test to check."""
    sent: list[bytes] = []
    emit = sim.emit

    def mutating_emit(data: bytes, delay: float = 0.0) -> None:
        if len(data) > 1:                  # a frame, not a link control byte
            if len(sent) in which:
                data = reframe(data, edits)
            sent.append(data)
        emit(data, delay)

    sim.emit = mutating_emit
    return sent


def sam_reframe(frame: bytes, edits) -> bytes:
    return idcard.encode_frame(mutate(idcard.decode_body(frame), edits))


@DRIVER_FUZZ
@given(st.sampled_from(CARDS), st.one_of(mutations(270, resize=False), mutations(270)),
       st.sets(st.integers(0, 5), min_size=1), st.booleans())
def test_the_sam_reader_given_framed_mutated_replies_reads_a_card_or_raises_a_device_error(name, edits, which,
                                                                                           fingerprint):
    clock = VirtualClock()
    start = clock.monotonic()
    sim = SamSimulator(clock)
    sim.insert_card(sim_idcard.CARDS[name]())
    sim.appended_address = "北京市示例路2号"
    mutate_replies(sim, sam_reframe, edits, which)
    reader = SamReader("idcard", f"sim://fuzz-idcard-{name}", clock=clock,
                       transport=SimPort(f"sim://fuzz-idcard-{name}", sim, "idcard"))
    try:
        for action in (lambda: use_card(reader.read_card(2, fingerprint=fingerprint)), reader.read_address,
                       reader.sam_id, reader.self_test, reader.status):
            try:
                action()
            except DeviceError:
                pass
    finally:
        reader.close()
    assert clock.monotonic() - start < 60     # every wait ended on its own timeout


def concert_reframe(frame: bytes, edits) -> bytes:
    return concert_frame(mutate(frame[1:-2], edits))


@DRIVER_FUZZ
@given(st.sampled_from(["approve", "decline", "not_verified"]), mutations(30), st.integers(1, 99_999_999))
def test_the_terminal_given_a_framed_mutated_result_never_approves_what_it_was_not_told(outcome, edits, amount):
    clock = VirtualClock()
    sim = ConcertSimulator(clock)
    sim.set_outcome(outcome)
    sent = mutate_replies(sim, concert_reframe, edits, {0, 1, 2})
    terminal = ConcertTerminal("payment", "sim://fuzz-payment", clock=clock,
                               transport=SimPort("sim://fuzz-payment", sim, "payment"))
    try:
        pending = terminal.prepare_sale(amount)
        result = terminal.send(pending)
    finally:
        terminal.close()
    assert result.result in set(Result)
    if result.result is Result.APPROVED:      # only when a frame said exactly that
        said = [payment.decode_response(payment.decode_frame(f)) for f in sent if valid_concert(f)]
        assert any(r.result == "0" and r.reference == pending.reference and r.amount_fen == amount for r in said)


def valid_concert(frame: bytes) -> bool:
    try:
        payment.decode_response(payment.decode_frame(frame))
    except ProtocolError:
        return False
    return True


def lock_reframe(driver: str):
    if driver == "lock8a":
        return lambda frame, edits: framed_8a(mutate(frame[:-1], edits))
    return lambda frame, edits: framed_kerong(mutate(frame[1:-2], edits))


@DRIVER_FUZZ
@given(st.sampled_from(["lock8a", "kerong"]), mutations(8), st.sets(st.integers(0, 6), min_size=1))
def test_the_locker_given_framed_mutated_replies_reports_doors_or_raises_a_device_error(driver, edits, which):
    clock = VirtualClock()
    start = clock.monotonic()
    sim = LockerSimulator(clock)
    boards = [(1, 24)] if driver == "lock8a" else [(0, 16)]
    sim.configure(driver, boards)
    mutate_replies(sim, lock_reframe(driver), edits, which)
    locker = Locker("locker", f"sim://fuzz-locker-{driver}", [LockBoard(a, d) for a, d in boards], driver,
                    clock=clock, transport=SimPort(f"sim://fuzz-locker-{driver}", sim, "locker"))
    doors = boards[0][1]
    try:
        for action in (locker.door_states, lambda: [locker.open_door(3)], lambda: [locker.door_state(5)],
                       locker.status):
            try:
                states = action()
            except DeviceError:
                continue
            if isinstance(states, list):
                assert all(1 <= s.door <= doors for s in states)
    finally:
        locker.close()
    assert clock.monotonic() - start < 60


@DRIVER_FUZZ
@given(st.lists(st.tuples(st.sampled_from(GOOD_SCANS), mutations(24), LINE_ENDS), min_size=1, max_size=5))
def test_the_scanner_given_mutated_lines_reads_codes_or_raises_a_device_error(lines):
    clock = VirtualClock()
    sim = ScannerSimulator(clock)
    scanner = SerialScanner("scanner", "sim://fuzz-scanner", clock=clock,
                            transport=SimPort("sim://fuzz-scanner", sim, "scanner"))
    try:
        sim.scan_bytes(b"".join(mutate(good, edits) + end for good, edits, end in lines))
        for _ in range(2 * len(lines) + 2):
            try:
                scanner.read_code(1)
            except DeviceError as exc:
                assert exc.detail == "bad_scan"
        scanner.status()
    finally:
        scanner.close()


# --- document printer (CUPS, ipptool -X plists) ----------------------------------------------------
# The plist is ipptool's, but the attribute values are the printer's: a well-formed plist whose
# values have the wrong type or shape must become a value or ProtocolError too.

PLIST_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)   # what XML can carry
PLIST_VALUE = st.recursive(
    st.one_of(st.integers(-(1 << 63), (1 << 64) - 1), PLIST_TEXT, st.booleans(), st.binary(max_size=8),
              st.floats(allow_nan=False), st.sampled_from(["3", "idle", "none", "media-empty-error", "", "٣"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(PLIST_TEXT, inner, max_size=3)),
    max_leaves=6)


def ipp_answer(**values) -> dict:
    printer = {"printer-state": 3, "printer-state-reasons": "none", "printer-is-accepting-jobs": True,
               "printer-state-message": "", "printer-error-policy": "abort-job", "job-state": 9,
               "job-state-reasons": "job-completed-successfully", "job-impressions-completed": 1}
    printer.update({k: v for k, v in values.items() if k in printer})
    test = {"StatusCode": values.get("StatusCode", "successful-ok"),
            "ResponseAttributes": values.get("ResponseAttributes", [{"attributes-charset": "utf-8"}, printer])}
    return {"Tests": values.get("Tests", [test])}


IPP_KEYS = ["printer-state", "printer-state-reasons", "printer-is-accepting-jobs", "printer-state-message",
            "printer-error-policy", "job-state", "job-state-reasons", "job-impressions-completed", "StatusCode",
            "ResponseAttributes", "Tests"]


@FUZZ
@given(st.dictionaries(st.sampled_from(IPP_KEYS), PLIST_VALUE, min_size=1, max_size=3),
       st.one_of(st.none(), PLIST_VALUE))
def test_a_well_formed_ipptool_plist_with_mutated_values_gives_a_status_or_protocol_error(values, root):
    doc = ipp_answer(**values) if root is None else root
    code, attrs, error = cups.parse_ipptool_plist(plistlib.dumps(doc))
    assert (code is None or isinstance(code, str)) and isinstance(attrs, dict) and isinstance(error, str)
    try:
        cups.printer_info_from(attrs).as_status()
    except ProtocolError:
        pass
    try:
        cups.job_info_from(7, attrs).as_dict()
    except ProtocolError:
        pass


@pytest.mark.parametrize("doc", [
    ipp_answer(**{"printer-state": "idle"}), ipp_answer(**{"printer-state": [3, 4]}), ipp_answer(Tests={"a": 1}),
    ipp_answer(Tests=["x"]), ipp_answer(ResponseAttributes=5), ipp_answer(StatusCode=0), ["not", "a", "dict"]])
def test_the_cups_printer_given_an_oddly_shaped_answer_reports_a_status_not_a_crash(doc):
    printer = cups.CupsPrinter("document_printer", "a4", server="/nonexistent/cups.sock")
    printer._run = lambda cmd: subprocess.CompletedProcess(cmd, 0, plistlib.dumps(doc), b"")
    try:
        printer.printer_info()                # no attributes at all: the defaults, "not accepting jobs"
    except DeviceError as err:
        assert err.detail in ("bad_reply", "no_answer")
    assert printer.status().state.value in ("offline", "hardware_error")
    try:
        printer.job(7)
    except DeviceError as err:
        assert err.detail in ("bad_reply", "no_answer")
    printer.close()


# --- receipt printer: what the printer simulator reads back ---------------------------------------
# Its status answers are single bytes (every value is covered in test_receipt_codec.py); the
# decoder with framing is the simulator's ESC/POS reader, whose commands carry lengths.

RECEIPT = Receipt().line("取件凭证 Pickup receipt", bold=True, large=True, align="center").line("门 7 · door 7") \
    .qr("KIOSK-PICKUP:12345678").feed(2).cut(partial=True).line("second").cut()


@FUZZ
@given(st.sampled_from(["gb18030", "utf-8"]), st.one_of(mutations(120, resize=False), mutations(120)))
def test_rendered_receipts_with_mutated_bytes_decode_or_raise_protocol_error(encoding, edits):
    data = mutate(render(RECEIPT, encoding), edits)
    EscPosStream(strict=False).feed(data)
    try:
        printed = decode_receipts(data, encoding)
    except ProtocolError:
        return
    assert all(isinstance(line.text, str) for receipt in printed for line in receipt.lines)
