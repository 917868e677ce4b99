"""Privacy rules (DESIGN.md section 7): masks, keyed hashes, and logs free of personal data."""
import logging

from kiosk.core import privacy


def test_id_number_mask_keeps_first_3_and_last_4():
    assert privacy.mask_id_number("110101199003071234") == "110***********1234"
    assert privacy.mask_id_number("11010119900307123x") == "110***********123X"


def test_names_keep_the_surname_only():
    assert privacy.mask_name("张三") == "张*"
    assert privacy.mask_name("欧阳娜娜") == "欧阳**"
    assert privacy.mask_name("王小明") == "王**"


def test_holder_hash_is_keyed_and_normalised():
    a = privacy.holder_hash("k" * 16, "11010119900307123x")
    assert a == privacy.holder_hash("k" * 16, " 11010119900307123X")
    assert a != privacy.holder_hash("j" * 16, "11010119900307123X")
    assert a != privacy.keyed_hash("k" * 16, "11010119900307123X", "pickup_code")


def test_log_records_never_carry_id_numbers_or_session_names(caplog):
    logger = logging.getLogger("kiosk.test")
    handler = logging.Handler()
    seen = []
    handler.emit = lambda record: seen.append(record.getMessage())
    handler.addFilter(privacy.RedactingFilter())
    logger.addHandler(handler)
    try:
        privacy.remember_person(name="欧阳娜娜", id_number="110101199003071234")
        logger.warning("card read for %s id %s", "欧阳娜娜", "110101199003071234")
        logger.warning("other id 44030419851231002X in text")
        privacy.forget_people()
    finally:
        logger.removeHandler(handler)
    assert seen == ["card read for 欧阳** id 110***********1234", "other id 440***********002X in text"]


def test_the_log_masks_a_mobile_number_wherever_it_appears():
    from kiosk.log import redact

    assert redact("notice to 13812341234 sent") == "notice to 138****1234 sent"
    assert redact("to +8613812341234.") == "to 138****1234."
    # a longer run of digits is not a mobile number: a timestamp in ms, an order number
    assert redact("t=1733450000123 order 213812341234") == "t=1733450000123 order 213812341234"
