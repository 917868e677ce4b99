"""ID card reader codec: frames and text blocks against bytes written down from HARDWARE.md, and fuzzing."""
import datetime as dt
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware import idcard
from kiosk.hardware.device import ProtocolError
from kiosk.hardware.idcard import CardType, FrameScanner, Reply

H = bytes.fromhex


def xor_all(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


# --- requests: the whole frames of the HARDWARE.md table -----------------------------------------

@pytest.mark.parametrize("command, frame", [
    (idcard.RESET_SAM, "AA AA AA 96 69 00 03 10 FF EC"),
    (idcard.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (idcard.SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
    (idcard.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (idcard.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (idcard.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
    (idcard.READ_ADDRESS, "AA AA AA 96 69 00 03 30 03 30"),
    (idcard.READ_TEXT_PHOTO_FINGERPRINT, "AA AA AA 96 69 00 03 30 10 23"),
])
def test_every_request_frame_matches_the_protocol_table(command, frame):
    assert idcard.encode_request(command) == H(frame)
    assert idcard.decode_request(H(frame)) == (command, b"")


def test_find_ok_reply_decodes_to_card_found():
    reply = idcard.decode_reply(H("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"))
    assert reply == Reply(0x00, 0x00, 0x9F, H("00 00 00 00"))
    assert reply.detail == "card_found"


def test_no_card_reply_decodes_to_no_card():
    reply = idcard.decode_reply(H("AA AA AA 96 69 00 04 00 00 80 84"))
    assert (reply.sw3, reply.data, reply.detail) == (0x80, b"", "no_card")


@pytest.mark.parametrize("code, detail", [
    (0x90, "success"), (0x9F, "card_found"), (0x91, "no_content"), (0x80, "no_card"), (0x81, "select_failed"),
    (0x41, "read_failed"), (0x10, "checksum_error"), (0x11, "length_error"), (0x21, "bad_command"),
    (0x23, "unauthorised"), (0x24, "unknown_error"), (0x31, "card_auth_failed"), (0x32, "sam_auth_failed"),
    (0x33, "auth_failed"), (0x40, "unknown_card_type"), (0x47, "random_failed"), (0x60, "sam_self_test_failed"),
    (0x66, "sam_not_authorised"),
])
def test_every_sw3_code_of_the_protocol_has_a_name(code, detail):
    assert idcard.sw3_detail(code) == detail


def test_a_bad_checksum_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="checksum"):
        idcard.decode_reply(H("AA AA AA 96 69 00 04 00 00 80 85"))


def test_a_wrong_preamble_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="preamble"):
        idcard.decode_reply(H("AA AA AB 96 69 00 04 00 00 80 84"))


def test_a_frame_shorter_than_its_len_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        idcard.decode_reply(H("AA AA AA 96 69 00 05 00 00 80 84"))


# --- the scanner of the reply stream ------------------------------------------------------------

def test_garbage_before_the_preamble_is_skipped():
    s = FrameScanner()
    frames = s.feed(H("00 13 AA AA 96 FF AA AA AA 96 69 00 04 00 00 80 84"))
    assert frames == [H("AA AA AA 96 69 00 04 00 00 80 84")]
    assert s.skipped == 6


def test_a_frame_in_one_byte_fragments_is_gathered():
    s = FrameScanner()
    whole = H("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
    out = []
    for b in whole:
        assert s.needed() >= 1
        out += s.feed(bytes([b]))
    assert out == [whole]


def test_an_impossible_len_does_not_swallow_the_next_frame():
    s = FrameScanner()
    frames = s.feed(H("AA AA AA 96 69 FF FF 00") + H("AA AA AA 96 69 00 04 00 00 80 84"))
    assert frames == [H("AA AA AA 96 69 00 04 00 00 80 84")]


# --- the text block, laid out by hand from the HARDWARE.md table ---------------------------------

def ucs2(text: str, size: int) -> bytes:
    raw = text.encode("utf-16-le")
    assert len(raw) <= size
    return raw + b"\x20\x00" * ((size - len(raw)) // 2)


def resident_block(name="张示例", sex="1", nation="01", birth="19900307", address="北京市朝阳区示例路1号",
                   number="110105199003071239", issuer="北京市公安局朝阳分局", start="20200101", end="20400101",
                   tail=b"\x20\x00" * 18) -> bytes:
    block = (ucs2(name, 30) + ucs2(sex, 2) + ucs2(nation, 4) + ucs2(birth, 16) + ucs2(address, 70)
             + ucs2(number, 36) + ucs2(issuer, 30) + ucs2(start, 16) + ucs2(end, 16) + tail)
    assert len(block) == 256
    return block


def test_resident_card_text_block_parses_every_field():
    card = idcard.parse_card(resident_block(), bytes(1024))
    assert card.card_type is CardType.RESIDENT
    assert (card.name, card.sex, card.nation) == ("张示例", "male", "汉")
    assert card.birth == dt.date(1990, 3, 7)
    assert card.address == "北京市朝阳区示例路1号"
    assert card.id_number == "110105199003071239"
    assert card.issuer == "北京市公安局朝阳分局"
    assert (card.valid_from, card.valid_to) == (dt.date(2020, 1, 1), dt.date(2040, 1, 1))
    assert card.id_checksum_ok is True and card.birth_date_ok is True
    assert card.photo == bytes(1024)


def test_long_term_validity_is_none_and_shown_as_long_term():
    card = idcard.parse_card(resident_block(end="长期"), b"")
    assert card.valid_to is None and card.long_term
    assert card.masked(dt.date(2090, 1, 1))["valid_to"] == "long-term"
    assert not card.expired(dt.date(2090, 1, 1))


def test_a_wrong_check_digit_is_reported_not_refused():
    card = idcard.parse_card(resident_block(number="110105199003071230"), b"")
    assert card.id_checksum_ok is False
    assert "id_check_digit_wrong" in card.problems(dt.date(2025, 1, 1))


def test_an_x_check_digit_is_valid():
    # weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 on 11010519491231002 give remainder 2 -> X
    card = idcard.parse_card(resident_block(number="11010519491231002X", birth="19491231", sex="2"), b"")
    assert card.id_checksum_ok is True and card.birth_date_ok is True


def test_a_birth_date_in_the_number_that_differs_from_the_card_is_flagged():
    card = idcard.parse_card(resident_block(birth="19900308"), b"")
    assert card.birth_date_ok is False


def test_an_expired_card_is_expired_after_its_valid_to_date():
    card = idcard.parse_card(resident_block(start="20000101", end="20200101"), b"")
    assert card.expired(dt.date(2020, 1, 2)) and not card.expired(dt.date(2020, 1, 1))


def test_nation_codes_cover_all_58_entries_of_gb_3304():
    assert len(idcard.NATIONS) == 58
    assert [f"{i:02d}" for i in range(1, 57)] + ["97", "98"] == sorted(idcard.NATIONS)
    assert idcard.NATIONS["01"] == "汉" and idcard.NATIONS["56"] == "基诺"
    assert idcard.NATIONS["97"] == "其他" and idcard.NATIONS["98"] == "外国血统中国籍人士"
    assert idcard.parse_card(resident_block(nation="43"), b"").nation == "乌孜别克"


def test_an_unknown_nation_code_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="GB 3304"):
        idcard.parse_text(resident_block(nation="57"))


@pytest.mark.parametrize("code, sex", [("0", "unknown"), ("1", "male"), ("2", "female"), ("9", "unstated")])
def test_sex_codes(code, sex):
    assert idcard.parse_card(resident_block(sex=code), b"").sex == sex


def test_an_unknown_sex_code_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="sex"):
        idcard.parse_text(resident_block(sex="3"))


def test_hk_mo_tw_residence_permit_has_pass_number_and_issue_count():
    tail = ucs2("H00000001", 18) + ucs2("01", 4) + ucs2("", 6) + ucs2("J", 2) + ucs2("", 6)
    block = resident_block(name="陈示例", nation="", number="810000199206110021", birth="19920611", sex="2",
                           tail=tail)
    card = idcard.parse_card(block, b"")
    assert card.card_type is CardType.HK_MO_TW_RESIDENCE
    assert (card.pass_number, card.issue_count, card.nation) == ("H00000001", 1, None)
    assert card.id_checksum_ok is True and card.birth_date_ok is True


def test_old_foreign_permanent_resident_card_layout():
    block = (ucs2("SAMPLE JOHN", 120) + ucs2("1", 2) + ucs2("USA118501010010", 30) + ucs2("USA", 6)
             + ucs2("约翰", 30) + ucs2("20180101", 16) + ucs2("20280101", 16) + ucs2("19850101", 16)
             + ucs2("01", 4) + ucs2("1100", 8) + ucs2("I", 2) + ucs2("", 6))
    card = idcard.parse_card(block, b"")
    assert card.card_type is CardType.FOREIGN_PERMANENT
    assert (card.name, card.name_zh, card.nationality) == ("SAMPLE JOHN", "约翰", "USA")
    assert card.id_number == "USA118501010010" and card.birth == dt.date(1985, 1, 1)
    assert card.id_checksum_ok is None  # no public check-digit rule for the 15-character number
    assert card.birth_date_ok is True
    assert card.masked(dt.date(2025, 1, 1))["card_type"] == "foreign_permanent"


def test_2023_foreign_permanent_resident_card_layout_joins_the_split_english_name():
    long_name = "SAMPLEFAMILYNAMEWITHMANYLETTERS ANNA MARIA"  # 42 characters: crosses into the second field
    en = long_name.encode("utf-16-le")
    block = (ucs2("安示例", 30) + ucs2("2", 2) + ucs2("00", 4) + ucs2("19880215", 16) + en[:70]
             + ucs2("911840198802150024", 36) + ucs2("", 30) + ucs2("20240101", 16) + ucs2("20340101", 16)
             + ucs2(en[70:].decode("utf-16-le"), 22) + ucs2("USA", 6) + ucs2("Y", 2) + ucs2("", 6))
    card = idcard.parse_card(block, b"")
    assert card.card_type is CardType.FOREIGN_PERMANENT_2023
    assert (card.name, card.name_en, card.nationality) == ("安示例", long_name, "USA")
    assert card.id_checksum_ok is True and card.birth_date_ok is True


def test_an_unknown_card_type_flag_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="card type"):
        idcard.parse_text(resident_block(tail=b"\x20\x00" * 14 + ucs2("Q", 2) + b"\x20\x00" * 3))


def test_read_reply_of_the_protocol_is_1295_bytes_and_parses():
    text, photo = resident_block(), bytes(range(256)) * 4
    body_after_len = H("00 00 90 01 00 04 00") + text + photo
    frame_wo_chk = H("AA AA AA 96 69 05 08") + body_after_len
    frame = frame_wo_chk + bytes([xor_all(frame_wo_chk[5:])])
    assert len(frame) == 1295
    reply = idcard.decode_reply(frame)
    card = idcard.parse_read_reply(reply.data, with_fingerprint=False)
    assert card.photo == photo and card.fingerprint is None


def test_read_reply_with_fingerprint_has_a_third_length():
    data = H("01 00 04 00 04 00") + resident_block() + bytes(1024) + b"\x11" * 1024
    card = idcard.parse_read_reply(data, with_fingerprint=True)
    assert card.fingerprint == b"\x11" * 1024


def test_card_repr_and_masked_never_show_the_full_name_or_number():
    card = idcard.parse_card(resident_block(), bytes(1024))
    for shown in (repr(card), str(card), str(card.masked(dt.date(2025, 1, 1)))):
        assert "110105199003071239" not in shown and "张示例" not in shown
    m = card.masked(dt.date(2025, 1, 1))
    assert (m["name"], m["id_number"]) == ("张**", "110***********1239")
    assert set(m) >= {"name", "id_number", "sex", "nation", "birth", "valid_from", "valid_to", "card_type",
                      "id_checksum_ok", "photo_bytes"}


# --- fuzzing: decoders raise only ProtocolError -------------------------------------------------

@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=64))
def test_decode_reply_of_random_bytes_raises_only_protocol_error(data):
    try:
        idcard.decode_reply(data)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(min_size=0, max_size=40), st.integers(0, 14))
def test_decode_of_a_truncated_or_corrupted_good_frame_raises_only_protocol_error(junk, cut):
    good = H("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
    for data in (good[:cut], good[:cut] + junk, junk + good):
        try:
            idcard.decode_reply(data)
        except ProtocolError:
            pass


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.binary(max_size=50), max_size=20))
def test_frame_scanner_never_raises_and_keeps_little(chunks):
    s = FrameScanner()
    for c in chunks:
        for frame in s.feed(c):
            assert frame[:5] == idcard.PREAMBLE
        assert s.needed() >= 1
    assert len(s.buffer) <= idcard.MAX_LEN + idcard.HEADER_SIZE


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(min_size=256, max_size=256))
def test_parse_text_of_random_blocks_raises_only_protocol_error(block):
    try:
        idcard.parse_card(block, b"")
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.binary(max_size=600), st.booleans())
def test_parse_read_reply_of_random_data_raises_only_protocol_error(data, fp):
    try:
        idcard.parse_read_reply(data, fp)
    except ProtocolError:
        pass


def test_non_ascii_digits_in_a_date_or_number_are_a_protocol_error_or_a_failed_check():
    with pytest.raises(ProtocolError, match="birth"):
        idcard.parse_text(resident_block(birth="1990030²"))
    card = idcard.parse_card(resident_block(number="11010519900307123²"), b"")
    assert card.id_checksum_ok is False
