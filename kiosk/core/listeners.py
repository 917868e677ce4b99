"""Telling a flow's listeners (its screens) about a change, the same way in every flow."""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)


def tell_listeners(value: Any, listeners: Iterable[Callable[[Any], None]], what: str) -> None:
    """Call each listener with `value`; one that fails is logged, never stops the flow or the others."""
    for fn in list(listeners):
        try:
            fn(value)
        except Exception:
            log.exception("%s listener failed", what)
