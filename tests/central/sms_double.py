"""A stand-in SMS gateway for the notifier's tests, named in central.toml as
`gateway = "tests.central.sms_double:make"` (a plug-in, kiosk/central/sms_gateway.py).

- `path`: one JSON line per message, as the `file` gateway of kiosk/central/sms/ writes them, and like it
  a message id already in the file is not appended again;
- `url` (optional): the message is first POSTed there as JSON, as a province's SMS platform would take it:
  a 5xx answer or no answer is a retryable SendError, a 4xx a final one; only a 2xx is written to `path`;
- `hang_once` (optional): a marker file; the first process to send makes it, writes the message to `path`,
  and then hangs (a notifier killed between the send and its record); later processes do not hang.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import requests

from kiosk.central.sms_gateway import SendError, Sms


class DoubleGateway:
    name = "double"

    def __init__(self, spec):
        self.path = Path(spec["path"])
        self.url = spec.get("url")
        self.hang_once = Path(spec["hang_once"]) if spec.get("hang_once") else None

    def send(self, sms: Sms) -> str:
        doc = {"message_id": sms.message_id, "phone": sms.phone, "template": sms.template, "params": sms.params,
               "text": sms.text}
        if self.url:
            try:
                answer = requests.post(self.url, json=doc, timeout=5)
            except requests.RequestException as exc:
                raise SendError(f"no answer: {type(exc).__name__}", retryable=True) from None
            if answer.status_code >= 500:
                raise SendError(f"the SMS platform answered {answer.status_code}", retryable=True)
            if answer.status_code >= 400:
                raise SendError(f"the SMS platform refused the message: {answer.status_code}", retryable=False)
        seen = set()
        if self.path.exists():
            seen = {json.loads(line)["message_id"] for line in self.path.read_text(encoding="utf-8").splitlines()}
        if sms.message_id not in seen:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(doc, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
        if self.hang_once is not None:
            try:
                os.close(os.open(self.hang_once, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            else:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:  # killed here by the test (bounded, should it not be)
                    time.sleep(0.2)
        return f"double-{sms.message_id[:8]}"


def make(spec) -> DoubleGateway:
    return DoubleGateway(spec)
