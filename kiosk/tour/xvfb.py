"""A virtual display (Xvfb) for the UI where there is no screen: the tour, the UI tests, the bench.

Xvfb picks a free display number itself (`-displayfd`), so parallel runs do
not collide. The display is stopped by its pid, never by name. No Kivy here.
"""
from __future__ import annotations

import os
import select
import shutil
import subprocess
import time


class XvfbError(RuntimeError):
    pass


class VirtualDisplay:
    """`with VirtualDisplay(1080, 1920) as d:` sets $DISPLAY to `d.display` inside the block."""

    def __init__(self, width: int = 1080, height: int = 1920, start_timeout_s: float = 15):
        self.width, self.height = width, height
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen | None = None
        self.display: str | None = None
        self._previous: str | None = None

    def start(self) -> str:
        exe = shutil.which("Xvfb")
        if not exe:
            raise XvfbError("Xvfb is not installed and there is no display; "
                            "install it with `sudo apt-get install xvfb` (or run where $DISPLAY is set)")
        read_fd, write_fd = os.pipe()
        side = max(self.width, self.height)  # room for any [ui] rotation
        try:
            self.process = subprocess.Popen(
                [exe, "-displayfd", str(write_fd), "-screen", "0", f"{side}x{side}x24", "-nolisten", "tcp",
                 "-noreset"],
                pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            os.close(write_fd)
        try:
            number = self._read_display_number(read_fd)
        finally:
            os.close(read_fd)
        self.display = f":{number}"
        self._previous = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = self.display
        return self.display

    def _read_display_number(self, fd: int) -> str:
        deadline = time.monotonic() + self.start_timeout_s
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                self.stop()
                raise XvfbError("Xvfb did not start (no display number within "
                                f"{self.start_timeout_s:.0f} s); try running `Xvfb :99` by hand to see why")
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(fd, 16)
                if not chunk:
                    continue
                data += chunk
        return data.decode().strip()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        if self.display is not None:
            if self._previous is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = self._previous
            self.display = None

    def __enter__(self) -> "VirtualDisplay":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def needs_virtual_display() -> bool:
    return not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")
