"""Resident ID card reader (SAM module on a serial line), `driver = "sam"`.

Split as the locker is: `codec` holds the wire format and the card contents
(frames, checksums, the text block layouts; pure, no I/O, no threads) and
`driver` holds `SamReader`, which owns the port. The public names of both are
importable from this package.
"""
from kiosk.hardware.idcard.codec import (
    CARD_TYPE_FLAGS, FIND_CARD, HEADER_SIZE, LONG_TERM, MAX_LEN, NATIONS, PHOTO_SIZE, PREAMBLE, READ_ADDRESS,
    READ_TEXT_PHOTO, READ_TEXT_PHOTO_FINGERPRINT, RESET_SAM, SAM_ID, SAM_STATUS, SELECT_CARD, SEXES, SW3, TEXT_SIZE,
    Card, CardType, FrameScanner, Reply, check_id_number, decode_body, decode_reply, decode_request, encode_frame,
    encode_request, frame_length, parse_card, parse_read_reply, parse_text, sw3_detail, xor,
)
from kiosk.hardware.idcard.driver import DEFAULT_TIMEOUTS, SamReader

__all__ = [
    "CARD_TYPE_FLAGS", "DEFAULT_TIMEOUTS", "FIND_CARD", "HEADER_SIZE", "LONG_TERM", "MAX_LEN", "NATIONS", "PHOTO_SIZE",
    "PREAMBLE", "READ_ADDRESS", "READ_TEXT_PHOTO", "READ_TEXT_PHOTO_FINGERPRINT", "RESET_SAM", "SAM_ID", "SAM_STATUS",
    "SELECT_CARD", "SEXES", "SW3", "TEXT_SIZE", "Card", "CardType", "FrameScanner", "Reply", "SamReader",
    "check_id_number", "decode_body", "decode_reply", "decode_request", "encode_frame", "encode_request",
    "frame_length", "parse_card", "parse_read_reply", "parse_text", "sw3_detail", "xor",
]
