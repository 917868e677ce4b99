"""Money as the citizen and staff read it: payment references and amounts in fen shown as yuan."""
from __future__ import annotations

import secrets

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: read aloud to staff without doubt
REFERENCE_SIZE = 10                                        # the Concert private field's size


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_SIZE))


def show_reference(reference: str) -> str:
    """`K7Q2M-9X4A1`: two groups of five, easier to read out and copy."""
    return f"{reference[:5]}-{reference[5:]}" if len(reference) == REFERENCE_SIZE else reference


def yuan(fen: int) -> str:
    """`¥1.50`: fen shown as yuan, always with two decimals."""
    return f"¥{fen // 100}.{fen % 100:02d}"
