"""A producer posting alerts as a real one would: POST /api/v1/alerts in batches; a 503
(after its Retry-After) or a broken connection is retried, anything else is final."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

RETRY_FOR = 60.0      # seconds a producer keeps retrying one batch before giving up
RETRY_AFTER_CAP = 5.0  # the longest Retry-After it honours (a drill is bounded in time)


@dataclass
class Tally:
    """What the producers were told, per alert id and in all."""

    answers: dict[str, str] = field(default_factory=dict)  # id -> created | duplicate | ...
    created: Counter = field(default_factory=Counter)      # id -> "created" answers
    requests: int = 0
    retried: Counter = field(default_factory=Counter)      # why a batch was sent again
    unexpected: Counter = field(default_factory=Counter)   # final answers other than 200
    slowest: float = 0.0
    seconds: float = 0.0  # from the first request to the last answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def rejected(self) -> Counter:
        return Counter(a for a in self.answers.values() if a.startswith("rejected"))


class Producer:
    def __init__(self, port: int, token: str, tally: Tally):
        self.port, self.token, self.tally = port, token, tally

    def post(self, alerts: list[dict]) -> None:
        """Post one batch until it is answered (or RETRY_FOR has passed)."""
        body = json.dumps(alerts).encode()
        ids = [a["SystemAlertId"] for a in alerts]
        give_up = time.monotonic() + RETRY_FOR
        while True:
            status, answer, wait = self._send(body)
            if status == 200:
                self._answered(ids, answer)
                return
            if (status == 503 or status is None) and time.monotonic() < give_up:
                with self.tally.lock:
                    self.tally.retried["503" if status else "connection"] += 1
                time.sleep(wait)
                continue
            with self.tally.lock:  # final: the producer does not send these again
                self.tally.unexpected[str(status or "connection")] += 1
                for i in ids:
                    self.tally.answers.setdefault(i, f"http {status or 'connection'}")
            return

    def _send(self, body: bytes):
        started = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            conn.request("POST", "/api/v1/alerts", body=body, headers={
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            conn.close()
        except (OSError, http.client.HTTPException):
            return None, None, 0.5
        finally:
            with self.tally.lock:
                self.tally.requests += 1
                self.tally.slowest = max(self.tally.slowest, time.monotonic() - started)
        wait = 1.0
        if response.status == 503:
            try:
                wait = min(float(response.headers.get("Retry-After", "1")), RETRY_AFTER_CAP)
            except ValueError:
                pass
        answer = json.loads(data) if response.status == 200 else None
        return response.status, answer, wait

    def _answered(self, ids: list[str], answer: dict) -> None:
        with self.tally.lock:
            for result in answer["results"]:
                alert_id = ids[result["index"]]
                status = result["status"]
                if status == "rejected":
                    status = f"rejected {result['error']['code']}"
                if status == "created":
                    self.tally.created[alert_id] += 1
                # A retried batch answers "duplicate" for what its first try stored.
                if self.tally.answers.get(alert_id) != "created":
                    self.tally.answers[alert_id] = status


def send(port: int, tokens: list[str], batches: list[list[dict]], *, clients: int = 2,
         every: float = 0.0, tally: Tally | None = None) -> Tally:
    """Post `batches` with `clients` threads; with `every`, batch i is due `every` * i
    seconds after the start (a steady producer), else as fast as answered. Batch i goes
    with token i % len(tokens)."""
    tally = tally or Tally()
    lock, started = threading.Lock(), time.monotonic()
    position = iter(range(len(batches)))

    def client():
        producers = [Producer(port, token, tally) for token in tokens]
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                return
            due = started + i * every - time.monotonic()
            if due > 0:
                time.sleep(due)
            producers[i % len(producers)].post(batches[i])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tally.seconds = time.monotonic() - started
    return tally
