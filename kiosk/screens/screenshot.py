"""What the kiosk's window shows, as a small PNG: `kiosk ui --snapshot`, `kill -USR1` and the tour's pictures.

Kivy is imported inside the functions: this module loads with the screens,
once the composition root has configured Kivy.
"""
from __future__ import annotations

import io
from pathlib import Path

from kiosk.durable import write_atomic


def grab_window():
    """Draw the window's current frame and read it back, as a Pillow image (RGB).
    Drawing and reading happen before the flip, so the pixels are the frame's own."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    Window.canvas.ask_update()
    Window.dispatch("on_draw")
    width, height = Window.system_size
    data = glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE)
    Window.dispatch("on_flip")
    image = Image.frombytes("RGBA", (width, height), bytes(data)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return image.convert("RGB")


def save_png(image, path: str | Path, max_width: int | None = 720) -> Path:
    """A small PNG: downscaled to `max_width` and reduced to a 128-colour palette."""
    from PIL import Image

    if max_width and image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.Resampling.LANCZOS)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written whole and renamed into place: whoever reads the picture (a reviewer's viewer, a test,
    # a second `kill -USR1`) sees the last whole one, never one half written
    png = io.BytesIO()
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(png, format="PNG",
                                                                                                 optimize=True)
    write_atomic(path, png.getvalue())
    return path
