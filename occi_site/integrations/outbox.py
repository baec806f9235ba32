"""The development outbox: e-mail and SMS "sent" in development are kept here.

A JSON-lines file, so the portal, the console scripts and the test suite see
the same messages; appends are serialised with a lock file.
"""

import fcntl
import json
import os
import threading
from datetime import UTC, datetime

_lock = threading.Lock()


class DevOutbox:
    def __init__(self, path):
        self.path = path

    def append(self, channel, to, subject, body):
        record = {
            'channel': channel,
            'to': to,
            'subject': subject,
            'body': body,
            'sent_at': datetime.now(UTC).isoformat(),
        }
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        line = json.dumps(record, ensure_ascii=False) + '\n'
        with _lock, open(self.path, 'a', encoding='utf-8') as stream:
            fcntl.flock(stream, fcntl.LOCK_EX)
            stream.write(line)
        return record

    def messages(self):
        """Every message, oldest first."""
        try:
            with open(self.path, encoding='utf-8') as stream:
                return [json.loads(line) for line in stream if line.strip()]
        except FileNotFoundError:
            return []
