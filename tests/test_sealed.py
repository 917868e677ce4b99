"""Pickup codes sealed to the notifier (kiosk/wire/sealed.py): open only with the notifier's key and only
for the deposit they were sealed for."""
import pytest

from kiosk.wire import sealed

BOUND = sealed.binding("hall-k01", "GA2026-000123", "ab" * 32)


@pytest.fixture(scope="module")
def key():
    return sealed.new_private_key()


def test_round_trip_through_the_text_forms(key):
    public = sealed.parse_public_key(sealed.public_key_text(key.public_key()))
    private = sealed.parse_private_key(sealed.private_key_text(key))
    value = sealed.seal(public, "04821937", BOUND)
    assert value.startswith("hpke1:") and "04821937" not in value
    assert sealed.open_sealed(private, value, BOUND) == "04821937"


def test_each_seal_differs(key):
    a, b = (sealed.seal(key.public_key(), "123456", BOUND) for _ in range(2))
    assert a != b


@pytest.mark.parametrize("bound", [sealed.binding("hall-k02", "GA2026-000123", "ab" * 32),
                                   sealed.binding("hall-k01", "GA2026-000124", "ab" * 32),
                                   sealed.binding("hall-k01", "GA2026-000123", "cd" * 32)])
def test_a_code_moved_to_another_deposit_does_not_open(key, bound):
    value = sealed.seal(key.public_key(), "123456", BOUND)
    with pytest.raises(sealed.SealError, match="does not open"):
        sealed.open_sealed(key, value, bound)


def test_another_platforms_key_does_not_open(key):
    value = sealed.seal(sealed.new_private_key().public_key(), "123456", BOUND)
    with pytest.raises(sealed.SealError, match="does not open"):
        sealed.open_sealed(key, value, BOUND)


@pytest.mark.parametrize("value,says", [("123456", "starts with"), ("hpke1:***", "base64url"),
                                        ("hpke1:AAAA", "does not open"), (None, "starts with")])
def test_malformed_values_say_what_is_wrong(key, value, says):
    with pytest.raises(sealed.SealError, match=says):
        sealed.open_sealed(key, value, BOUND)


@pytest.mark.parametrize("text,says", [("AAAA", "must start with"), ("x25519:AAAA", "3 bytes"),
                                       ("x25519:!!", "base64url")])
def test_a_bad_public_key_says_what_to_do(text, says):
    with pytest.raises(sealed.SealError, match=says):
        sealed.parse_public_key(text)
