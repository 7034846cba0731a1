"""A faust worker for tests of `mrc_plumbing.faust_app.subscribe` with keyed concurrency.

    python tests/support/keyed_consumer.py <bootstrap> <app id> <topic> <output file> <web port> <concurrency>

Each handled event appends a JSON line to the output file: its subject (the record key), its data (a
sequence number), when handling started and ended. Handling takes 50 ms; an event whose data is `poison`
always fails, so it ends on the dead-letter topic.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from mrc_kernel.events import Event
from mrc_plumbing.faust_app import create_faust_app, subscribe
from mrc_plumbing.settings import InfraSettings


def main() -> None:
    bootstrap, app_id, topic, output, web_port, concurrency = sys.argv[1:7]
    lock = threading.Lock()

    def handle(event: Event) -> None:
        if event.data == b"poison":
            raise ValueError("a poison record")
        started = time.monotonic()
        time.sleep(0.05)
        line = json.dumps(
            {"key": event.subject, "seq": int(event.data), "start": started, "end": time.monotonic(), "id": event.id}
        )
        with lock, open(output, "a", encoding="utf-8") as out:
            out.write(line + "\n")

    app = create_faust_app(app_id, InfraSettings(kafka_bootstrap_servers=bootstrap), web_port=int(web_port))
    subscribe(app, topic, handle, concurrency=int(concurrency), retry_delay_seconds=0.05)
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    main()
