"""Lock-board codecs (8A and Kerong) against bytes written down from HARDWARE.md, and fuzzing of every decoder."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware import locker_8a as p8a
from kiosk.hardware import locker_kerong as pkr
from kiosk.hardware.device import ProtocolError
from kiosk.hardware.locker import LockBoard, protocol_for

H = bytes.fromhex


# --- 8A: the request vectors of the HARDWARE.md table ---------------------------------------------

def test_8a_unlock_board_1_lock_1_is_the_documented_frame():
    assert p8a.encode_unlock(1, 1) == H("8A 01 01 11 9B")


def test_8a_query_one_door_is_the_documented_frame():
    assert p8a.encode_query_door(1, 1) == H("80 01 01 33 B3")


def test_8a_query_all_doors_is_the_documented_frame():
    assert p8a.encode_query_board(1) == H("80 01 00 33 B2")


@pytest.mark.parametrize("frame, op, address, lock", [
    ("8A 01 01 11 9B", "unlock", 1, 1),
    ("80 01 01 33 B3", "query_door", 1, 1),
    ("80 01 00 33 B2", "query_board", 1, 0),
])
def test_8a_requests_read_back_as_a_board_reads_them(frame, op, address, lock):
    req = p8a.decode_request(H(frame))
    assert (req.op, req.address, req.lock) == (op, address, lock)


def test_8a_request_with_a_wrong_check_byte_is_refused():
    with pytest.raises(ProtocolError, match="check byte"):
        p8a.decode_request(H("8A 01 01 11 9C"))


# --- 8A replies: written down by hand from the rules (BCC = XOR of the four bytes) ------------------

@pytest.mark.parametrize("frame, closed", [
    ("80 01 03 11 93", False),   # SS 11 = open with the default open_status
    ("80 01 03 00 82", True),    # SS 00 = closed
    ("8A 01 03 11 99", False),   # the echoed 8A header some vendors send
])
def test_8a_single_door_reply_with_default_wiring(frame, closed):
    assert p8a.decode_door_reply(H(frame)) == (1, 3, closed)


def test_8a_single_door_reply_read_with_inverted_open_status():
    # boards wired the other way: 00 means open
    assert p8a.decode_door_reply(H("80 01 03 00 82"), open_status=0x00) == (1, 3, False)
    assert p8a.decode_door_reply(H("80 01 03 11 93"), open_status=0x00) == (1, 3, True)


def test_8a_reply_header_outside_the_accepted_ones_is_refused():
    with pytest.raises(ProtocolError, match="header"):
        p8a.decode_door_reply(H("8A 01 03 11 99"), headers=(0x80,))


def test_8a_query_all_reply_bits_are_lsb_first_with_locks_1_to_8_in_the_last_status_byte():
    # locks 1 and 10 open (0 bits), every other lock closed (1 bits): S25-32 FF, S17-24 FF, S9-16 FD, S1-8 FE
    address, bits = p8a.decode_board_reply(H("80 01 FF FF FD FE 33 B1"))
    assert address == 1
    assert [n for n in range(1, 33) if bits[n - 1] == 0] == [1, 10]


def test_8a_board_plugin_reads_the_query_all_reply_per_board_closed_bit():
    proto = protocol_for("lock8a")
    frame = H("80 01 FF FF FD FE 33 B1")
    default = proto.decode_reply(frame, "board", {1: LockBoard(1, 24)})
    assert [n for n, (closed, _) in default.locks.items() if not closed] == [1, 10]
    inverted = proto.decode_reply(frame, "board", {1: LockBoard(1, 24, closed_bit=0)})
    assert [n for n, (closed, _) in inverted.locks.items() if closed] == [1, 10]
    assert all(item is None for _, item in default.locks.values())   # the 8A board has no item sensor


def test_8a_reply_from_a_board_that_was_not_asked_is_refused():
    proto = protocol_for("lock8a")
    with pytest.raises(ProtocolError, match="not asked"):
        proto.decode_reply(H("80 01 03 11 93"), "door", {2: LockBoard(2, 24)})


def test_8a_reply_is_found_behind_line_noise():
    proto = protocol_for("lock8a")
    report, used = proto.find_reply(H("00 FF 80 01") + H("80 01 03 11 93"), "door", {1: LockBoard(1, 24)})
    assert report.locks == {3: (False, None)}
    assert used == 9


def test_8a_partial_reply_is_kept_for_the_next_read():
    proto = protocol_for("lock8a")
    report, used = proto.find_reply(H("00 80 01 03"), "door", {1: LockBoard(1, 24)})
    assert report is None and used == 1   # the noise byte goes, "80 01 03" waits


# --- Kerong ----------------------------------------------------------------------------------------

def test_kerong_unlock_board_0_lock_1_is_the_documented_frame():
    assert pkr.encode_unlock(0, 1) == H("02 00 31 03 36")


def test_kerong_whole_bus_query_is_the_documented_frame():
    assert pkr.encode_bus_query() == H("02 F0 32 03 27")


def test_kerong_address_is_board_in_the_high_nibble_and_lock_minus_one_in_the_low():
    assert pkr.encode_unlock(1, 3) == H("02 12 31 03 48")
    assert pkr.encode_status(1) == H("02 10 30 03 45")


@pytest.mark.parametrize("frame, op, board, lock", [
    ("02 00 31 03 36", "unlock", 0, 1),
    ("02 12 31 03 48", "unlock", 1, 3),
    ("02 10 30 03 45", "query_board", 1, 0),
    ("02 F0 32 03 27", "query_bus", -1, 0),
])
def test_kerong_requests_read_back_as_a_board_reads_them(frame, op, board, lock):
    req = pkr.decode_request(H(frame))
    assert (req.op, req.board, req.lock) == (op, board, lock)


def test_kerong_status_reply_gives_lock_and_item_bits():
    # board 0: lock 2 open (bit 0 in D1 = FD), item in lock 3 (D3 = 04); sum 02+00+35+FD+FF+04+00+03 = 0x23A
    status = pkr.decode_status(H("02 00 35 FD FF 04 00 03 3A"))
    assert status.board == 0 and status.cmd == 0x35
    assert [n for n in range(1, 17) if not status.lock_bits[n - 1]] == [2]
    assert [n for n in range(1, 17) if status.item_bits[n - 1]] == [3]


def test_kerong_plugin_reports_items_and_reads_closed_bit_per_board():
    proto = protocol_for("kerong")
    report = proto.decode_reply(H("02 00 35 FD FF 04 00 03 3A"), "board", {0: LockBoard(0, 16)})
    assert report.locks[2] == (False, False)
    assert report.locks[3] == (True, True)
    inverted = proto.decode_reply(H("02 00 35 FD FF 04 00 03 3A"), "board", {0: LockBoard(0, 16, closed_bit=0)})
    assert inverted.locks[2] == (True, False) and inverted.locks[1] == (False, False)


def test_kerong_bus_reply_frame_of_board_1():
    proto = protocol_for("kerong")
    report = proto.decode_reply(H("02 10 36 FF FF 00 00 03 49"), "bus", {0: LockBoard(0, 16), 1: LockBoard(1, 8)})
    assert report.address == 1 and len(report.locks) == 8
    assert all(closed and item is False for closed, item in report.locks.values())


def test_kerong_status_frame_with_a_bad_sum_is_refused():
    with pytest.raises(ProtocolError, match="sum"):
        pkr.decode_status(H("02 00 35 FD FF 04 00 03 3B"))


def test_kerong_bus_frame_does_not_answer_a_board_query():
    proto = protocol_for("kerong")
    with pytest.raises(ProtocolError, match="does not answer"):
        proto.decode_reply(H("02 10 36 FF FF 00 00 03 49"), "board", {1: LockBoard(1, 8)})


# --- board limits ----------------------------------------------------------------------------------

def test_board_types_refuse_addresses_and_door_counts_they_cannot_drive():
    with pytest.raises(ValueError, match="1-32"):
        protocol_for("lock8a").check_board(LockBoard(1, 40))
    with pytest.raises(ValueError, match="outside 0-15"):
        protocol_for("kerong").check_board(LockBoard(16, 8))
    with pytest.raises(ValueError, match="unknown lock board driver"):
        protocol_for("lock9z")


# --- fuzzing: garbage raises only ProtocolError ----------------------------------------------------

BOARDS_8A = {1: LockBoard(1, 24), 2: LockBoard(2, 32, open_status=0x00, closed_bit=0, reply_headers=(0x80,))}
BOARDS_KR = {0: LockBoard(0, 16), 3: LockBoard(3, 8)}


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=12))
def test_8a_decoders_raise_only_protocol_error(data):
    for decode in (p8a.decode_request, p8a.decode_door_reply, p8a.decode_board_reply):
        try:
            decode(data)
        except ProtocolError:
            pass


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=12))
def test_kerong_decoders_raise_only_protocol_error(data):
    for decode in (pkr.decode_request, pkr.decode_status):
        try:
            decode(data)
        except ProtocolError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(["door", "board", "bus"]))
def test_reply_search_never_raises_and_always_makes_progress(data, expect):
    for proto, boards in ((protocol_for("lock8a"), BOARDS_8A), (protocol_for("kerong"), BOARDS_KR)):
        buf = data
        while buf:
            report, used = proto.find_reply(buf, expect, boards)
            assert 0 <= used <= len(buf)
            if report is None:
                if used == 0:
                    break        # a partial frame waits for more bytes
            else:
                assert report.address in boards
            buf = buf[used:]
