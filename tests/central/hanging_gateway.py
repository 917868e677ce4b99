"""The `file` gateway, hanging once after it wrote a message: a notifier killed between the send and its
record. Named in central.toml as `gateway = "tests.central.hanging_gateway:HangingFileGateway"` (a plug-in,
docs/sms.md) with `path` and `hang_once`, a marker file: the first process to send makes it, writes the
message, and hangs until it is killed (bounded); later processes send as the file gateway does."""
from __future__ import annotations

import os
import time
from pathlib import Path

from kiosk.central.sms.base import setting
from kiosk.central.sms.file import FileGateway

HANG_S = 120


class HangingFileGateway(FileGateway):
    @classmethod
    def from_settings(cls, spec, **context):
        gateway = super().from_settings(spec, **context)
        gateway.marker = Path(setting(spec, "hang_once"))
        return gateway

    def send(self, sms):
        receipt = super().send(sms)
        try:
            os.close(os.open(self.marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return receipt
        deadline = time.monotonic() + HANG_S
        while time.monotonic() < deadline:  # killed here by the test
            time.sleep(0.2)
        return receipt
