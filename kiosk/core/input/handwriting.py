"""Handwriting recognition for the writing pad: strokes drawn with a finger become a short list of
candidate Chinese characters, best first.

The recognition is zinnia's (libzinnia0, an SVM classifier of stroke features) with the
Simplified-Chinese model of the Tegaki project (tegaki-zinnia-simplified-chinese), reached
through a small ctypes binding of zinnia's C API: the python3-zinnia package is built for
Debian's own python3, not for the kiosk's venv.

What the pad gives is not what the model was trained on, so `normalise()` brings each drawing
into the model's terms first: Tegaki's writings, and so its training data, are 1000 x 1000
canvases, and zinnia reads a point as (x / width, y / height) of the canvas without looking
at where on it the character is. A character drawn small in a corner of the pad would read as a
different shape, so the bounding box of the drawing is scaled into the canvas (aspect kept,
centred, a small margin), and a finger's dense run of touch events is thinned to the points
that make the shape.

The model is a 26 MB file that zinnia maps and reads whole when it opens it: 27 MB more resident
(page cache, shared, which the kernel may drop and read again), all of it given back by close().
So the UI opens a `Recogniser` when a form is being filled and closes it after the visit.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

log = logging.getLogger(__name__)

LIBRARY = "libzinnia.so.0"
LIBRARY_PACKAGE = "libzinnia0"
MODEL_PACKAGE = "tegaki-zinnia-simplified-chinese"
# where Debian's tegaki-zinnia-simplified-chinese puts it, then a locally built Tegaki model
MODEL_PATHS = (Path("/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model"),
               Path("/usr/local/share/tegaki/models/zinnia/handwriting-zh_CN.model"))

CANVAS = 1000            # Tegaki's writing size (tegaki.character.Writing), the model's training canvas
MARGIN = 0.15            # of the canvas, each side: Tegaki's normalize() leaves 70 %, and 0.15 did best of 0..0.2
SIMPLIFY = 8             # canvas units: a point this close to the line through its neighbours adds nothing
MAX_POINTS = 64          # per stroke, after simplifying: a scribble costs no more than a character
DENSEST = 1000           # points a stroke is read at most: ten seconds of touch events, or a scribble
SMALLEST_DRAWING = 0.05  # of the pad's shorter side: a tap or a tiny scribble is not blown up to the canvas


class HandwritingError(Exception):
    """Handwriting cannot be recognised; the message says what is wrong and what to do."""


class RecogniserUnavailable(HandwritingError):
    """The zinnia library or the handwriting model is not installed, or the model cannot be read."""


class EmptyDrawing(HandwritingError):
    """Nothing was drawn: no stroke with a point in it."""


class RecogniserClosed(HandwritingError):
    """The recogniser was closed (the visit ended) and is asked to recognise."""


@dataclass(frozen=True)
class Candidate:
    """One character the drawing may be; a higher score is a better match (zinnia's SVM margin,
    comparable only among the candidates of one drawing)."""
    text: str
    score: float


Point = tuple[float, float]


def normalise(strokes: Sequence[Sequence[Point]], width: float, height: float) -> list[list[tuple[int, int]]]:
    """The drawing in the model's canvas: strokes of (x, y) pad points (y growing downwards, the pad
    `width` x `height`) scaled so their bounding box fills the CANVAS x CANVAS square less its margin,
    aspect kept and centred, each stroke thinned to the points that make its shape (`_thin`). Points
    that are not numbers (NaN, infinity) and empty strokes are left out;
    raises EmptyDrawing when none is left."""
    if not (width > 0 and height > 0):
        raise ValueError(f"the writing pad's size must be positive, not {width} x {height}")
    drawn = [[(float(x), float(y)) for x, y in stroke] for stroke in strokes]
    drawn = [[p for p in stroke if math.isfinite(p[0]) and math.isfinite(p[1])] for stroke in drawn]
    drawn = [stroke for stroke in drawn if stroke]
    if not drawn:
        raise EmptyDrawing("nothing to recognise: the drawing has no strokes with points")
    xs = [x for stroke in drawn for x, _ in stroke]
    ys = [y for stroke in drawn for _, y in stroke]
    left, top = min(xs), min(ys)
    box_w, box_h = max(xs) - left, max(ys) - top
    extent = max(box_w, box_h, SMALLEST_DRAWING * min(width, height))
    inner = CANVAS * (1 - 2 * MARGIN)
    scale = inner / extent
    # centring: the box's centre goes to the canvas's centre
    off_x = CANVAS / 2 - (left + box_w / 2) * scale
    off_y = CANVAS / 2 - (top + box_h / 2) * scale
    out = []
    for stroke in drawn:
        pts = [(round(x * scale + off_x), round(y * scale + off_y)) for x, y in stroke]
        out.append(_thin(pts))
    return out


def _thin(pts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A stroke reduced to the points that make its shape: repeated points (a finger resting
    between touch events) dropped, then the stroke simplified (Ramer-Douglas-Peucker) so that no
    point left out lay more than SIMPLIFY from it, more coarsely while over MAX_POINTS. Corners,
    first and last point are kept; zinnia looks only at a stroke's corners anyway. A stroke of more
    than DENSEST points is read at every so many first."""
    kept = [pts[0]]
    for p in pts[1:]:
        if p != kept[-1]:
            kept.append(p)
    if len(kept) > DENSEST:   # keeps the simplifying within milliseconds whatever is drawn
        step = (len(kept) - 1) / (DENSEST - 1)
        kept = [kept[round(i * step)] for i in range(DENSEST)]
    tolerance = SIMPLIFY or 1.0   # doubled below until few enough points: never from 0
    simple = _simplify(kept, tolerance)
    while len(simple) > MAX_POINTS:
        tolerance *= 2
        simple = _simplify(kept, tolerance)
    return simple


def _simplify(pts: list[tuple[int, int]], tolerance: float) -> list[tuple[int, int]]:
    """Ramer-Douglas-Peucker: the points no farther than `tolerance` from the line through the
    points kept around them are dropped."""
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    spans = [(0, len(pts) - 1)]
    while spans:   # a stack, not recursion: a long stroke is thousands of points
        a, b = spans.pop()
        (x0, y0), (x1, y1) = pts[a], pts[b]
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy)
        far, far_at = -1.0, a
        for i in range(a + 1, b):
            x, y = pts[i]
            d = abs((x - x0) * dy - (y - y0) * dx) / length if length else math.hypot(x - x0, y - y0)
            if d > far:
                far, far_at = d, i
        if far > tolerance:
            keep[far_at] = True
            spans += [(a, far_at), (far_at, b)]
    return [p for p, k in zip(pts, keep) if k]


# --- zinnia's C API (zinnia.h) --------------------------------------------------------------------

_lib = None
_lib_lock = threading.Lock()


def _zinnia() -> ctypes.CDLL:
    """libzinnia, its functions declared; loaded at the first open so the kiosk starts without it."""
    global _lib
    with _lib_lock:
        if _lib is None:
            try:
                lib = ctypes.CDLL(LIBRARY)
            except OSError:
                found = ctypes.util.find_library("zinnia")
                if found is None:
                    raise RecogniserUnavailable(
                        f"handwriting: the zinnia library ({LIBRARY}) is not installed; install the Debian "
                        f"package {LIBRARY_PACKAGE} (scripts/system-packages.sh)") from None
                lib = ctypes.CDLL(found)
            vp, c_int, c_size, c_str = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p
            for name, res, args in (
                    ("zinnia_recognizer_new", vp, []),
                    ("zinnia_recognizer_destroy", None, [vp]),
                    ("zinnia_recognizer_open", c_int, [vp, c_str]),
                    ("zinnia_recognizer_close", c_int, [vp]),
                    ("zinnia_recognizer_size", c_size, [vp]),
                    ("zinnia_recognizer_strerror", c_str, [vp]),
                    ("zinnia_recognizer_classify", vp, [vp, vp, c_size]),
                    ("zinnia_character_new", vp, []),
                    ("zinnia_character_destroy", None, [vp]),
                    ("zinnia_character_set_width", None, [vp, c_size]),
                    ("zinnia_character_set_height", None, [vp, c_size]),
                    ("zinnia_character_add", c_int, [vp, c_size, c_int, c_int]),
                    ("zinnia_character_clear", None, [vp]),
                    ("zinnia_result_value", c_str, [vp, c_size]),
                    ("zinnia_result_score", ctypes.c_float, [vp, c_size]),
                    ("zinnia_result_size", c_size, [vp]),
                    ("zinnia_result_destroy", None, [vp])):
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = res, args
            _lib = lib
        return _lib


def find_model(model_path: str | Path | None = None) -> Path:
    """The model file to open: `model_path` when given, else the first of MODEL_PATHS there is.
    Raises RecogniserUnavailable naming the package and path when it is not there."""
    if model_path is not None:
        path = Path(model_path)
        if not path.is_file():
            raise RecogniserUnavailable(
                f"handwriting: no model file at {path}; the Simplified-Chinese model comes with the Debian "
                f"package {MODEL_PACKAGE} at {MODEL_PATHS[0]}")
        return path
    for path in MODEL_PATHS:
        if path.is_file():
            return path
    raise RecogniserUnavailable(
        f"handwriting: no Simplified-Chinese model at {MODEL_PATHS[0]}; install the Debian package "
        f"{MODEL_PACKAGE} (scripts/system-packages.sh)")


class Recogniser:
    """An open handwriting model. `Recogniser.open()` opens it, `close()` (or leaving a `with` block)
    frees it; `recognise()` turns one drawing into candidates.

    Threads: the UI calls `recognise()` from a worker thread, never its own (a recognition takes
    milliseconds but touches the whole model). One recogniser may be shared by threads: calls are
    taken one at a time under a lock, and `close()` waits for a recognition under way to finish
    before the model is freed, so a visit ending mid-recognition cannot free memory zinnia is
    reading; the recognition after it raises RecogniserClosed.
    """

    def __init__(self, lib: ctypes.CDLL, handle: int, model_path: Path):
        """Use `Recogniser.open()`; this takes over an open zinnia recognizer `handle`."""
        self._lib = lib
        self._handle: int | None = handle
        self._character: int | None = None   # zinnia's drawing, made once and cleared for each one
        self._lock = threading.Lock()
        self.model_path = model_path

    @classmethod
    def open(cls, model_path: str | Path | None = None) -> "Recogniser":
        """Open the Simplified-Chinese model (`model_path`, else where tegaki-zinnia-simplified-chinese
        installs it). Raises RecogniserUnavailable naming the missing package or unreadable file."""
        path = find_model(model_path)
        lib = _zinnia()
        handle = lib.zinnia_recognizer_new()
        if not handle:
            raise MemoryError("handwriting: zinnia could not make a recognizer")
        if not lib.zinnia_recognizer_open(handle, str(path).encode()):
            detail = (lib.zinnia_recognizer_strerror(handle) or b"").decode(errors="replace")
            lib.zinnia_recognizer_destroy(handle)
            raise RecogniserUnavailable(
                f"handwriting: zinnia cannot read the model {path} ({detail}); reinstall the Debian package "
                f"{MODEL_PACKAGE}, or give the path of a zinnia model of Tegaki")
        log.info("handwriting: opened %s (%d characters)", path, lib.zinnia_recognizer_size(handle))
        return cls(lib, handle, path)

    @property
    def is_open(self) -> bool:
        return self._handle is not None

    def close(self) -> None:
        """Free the model (its mapping and zinnia's index of it). Safe to call twice."""
        with self._lock:
            handle, self._handle = self._handle, None
            character, self._character = self._character, None
            if character is not None:
                self._lib.zinnia_character_destroy(character)
            if handle is not None:
                self._lib.zinnia_recognizer_close(handle)
                self._lib.zinnia_recognizer_destroy(handle)

    def __enter__(self) -> "Recogniser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # a recogniser dropped without close() would keep 26 MB mapped for the rest of the process
        try:
            self.close()
        except Exception:
            pass

    def recognise(self, strokes: Sequence[Sequence[Point]], width: float, height: float,
                  limit: int = 10) -> list[Candidate]:
        """The `limit` characters the drawing most likely is, best first. `strokes` in the order drawn,
        each a sequence of (x, y) points on a `width` x `height` pad, y growing downwards. Raises
        EmptyDrawing when nothing was drawn, RecogniserClosed after close()."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        canvas = normalise(strokes, width, height)
        lib = self._lib
        with self._lock:
            if self._handle is None:
                raise RecogniserClosed("handwriting: the recogniser is closed; open a new one with "
                                       "Recogniser.open()")
            if self._character is None:
                self._character = lib.zinnia_character_new()
                if not self._character:
                    self._character = None
                    raise MemoryError("handwriting: zinnia could not make a character")
            character = self._character
            lib.zinnia_character_clear(character)
            lib.zinnia_character_set_width(character, CANVAS)
            lib.zinnia_character_set_height(character, CANVAS)
            for i, stroke in enumerate(canvas):
                for x, y in stroke:
                    lib.zinnia_character_add(character, i, x, y)
            result = lib.zinnia_recognizer_classify(self._handle, character, limit)
            if not result:
                detail = (lib.zinnia_recognizer_strerror(self._handle) or b"").decode(errors="replace")
                raise HandwritingError(f"handwriting: zinnia could not classify the drawing ({detail})")
            try:
                return [Candidate(lib.zinnia_result_value(result, i).decode("utf-8"),
                                  float(lib.zinnia_result_score(result, i)))
                        for i in range(lib.zinnia_result_size(result))]
            finally:
                lib.zinnia_result_destroy(result)
