"""The five fault drills. Each starts its own stack, sends alerts while doing one thing to
it, lets it recover for a bounded time, and measures from the database what became of
every alert (drills.measure)."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field

from bench.alertgen import make_alerts
from drills.measure import UNCORRELATED, Outcome, measure, settle, uncorrelated
from drills.producer import Producer, Tally, send
from drills.stack import LOGS, Stack, connect

RECOVERY = 60.0  # seconds every alert has to be correlated in, once the fault is over
CORRELATE_LOCK = 7_300_002  # incidents.correlation: held while a batch is correlated


@dataclass
class Result:
    name: str
    done: str
    outcome: Outcome
    tally: Tally
    seconds: float
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def judge(self) -> Result:
        o = self.outcome
        if o.lost:
            codes = ", ".join(f"{n} {why}" for why, n in self.tally.rejected.items())
            self.failures.append(f"{o.lost} alerts lost (first: {o.lost_ids[:3]})"
                                 + (f"; answered {codes}" if codes else ""))
        if o.duplicated:
            self.failures.append(f"{o.duplicated} alerts stored twice")
        if o.uncorrelated:
            self.failures.append(f"{o.uncorrelated} alerts still uncorrelated after "
                                 f"{RECOVERY:.0f} s")
        self.failures += o.problems
        # A producer can only act on 200 and 503: any other answer is a fault of ours.
        for status, n in self.tally.unexpected.items():
            self.failures.append(f"{n} requests answered {status}")
        return self

    @property
    def ok(self) -> bool:
        return not self.failures


def batches(alerts: list[dict], size: int) -> list[list[dict]]:
    return [alerts[i:i + size] for i in range(0, len(alerts), size)]


def ids(alerts: list[dict]) -> set[str]:
    return {a["SystemAlertId"] for a in alerts}


def later(seconds: float, action) -> threading.Thread:
    """Run `action` `seconds` from now, in a thread the caller joins."""
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()))
    thread.start()
    return thread


def _notes(tally: Tally, recovery: float) -> list[str]:
    notes = [f"{tally.requests} requests in {tally.seconds:.1f} s, slowest {tally.slowest:.1f} s"]
    if tally.retried:
        notes.append("retried after " + ", ".join(
            f"{n} × {why}" for why, n in sorted(tally.retried.items())))
    notes.append(f"every alert correlated {recovery:.1f} s after the fault")
    return notes


def redis_outage(tokens: list[str]) -> Result:
    """a. Redis stopped for 10 s during a steady ingest, then started again (empty)."""
    started = time.monotonic()
    with Stack("a") as stack:
        web = stack.start_web()
        stack.start_beat()
        stack.start_worker().wait_for("ready.", 60)  # the outage hits a running worker
        alerts = make_alerts(2000, seed=11, prefix="drill-a")
        # 40 batches of 50 over 16 s; Redis is down from 3 s to 13 s.
        faults = [later(3, stack.redis.stop), later(13, stack.redis.start)]
        tally = send(web.port, tokens[:1], batches(alerts, 50), clients=2, every=0.4)
        for thread in faults:
            thread.join()
        recovery = settle(stack.db, RECOVERY)
        result = Result("a", "Redis stopped 10 s during a steady ingest, then restarted "
                        "empty", measure(stack.db, ids(alerts)), tally,
                        time.monotonic() - started, _notes(tally, recovery))
        return _finish(result, stack)


def worker_killed(tokens: list[str]) -> Result:
    """b. The worker killed with SIGKILL mid-correlation; a new worker started."""
    started = time.monotonic()
    with Stack("b", CORRELATION_BATCH="100") as stack:
        web = stack.start_web()
        stack.start_beat()
        alerts = make_alerts(2000, seed=12, prefix="drill-b", hosts=40)
        # No worker yet: the whole ingest waits for correlation, 20 batches of it.
        tally = send(web.port, tokens[:1], batches(alerts, 100), clients=2)
        first = stack.start_worker("worker-1")
        notes = []
        with connect(stack.db) as conn:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                # A batch in flight (the lock held by the worker), a quarter committed.
                holding = conn.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid) "
                    "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.granted "
                    "AND s.application_name = 'soc-worker-1'", [CORRELATE_LOCK]).fetchone()[0]
                if holding and conn.execute(UNCORRELATED).fetchone()[0] < len(alerts) * 3 / 4:
                    break
                time.sleep(0.01)
        first.kill(signal.SIGKILL)
        first.proc.wait()
        left = uncorrelated(stack.db)
        notes.append(f"killed with {left} of {len(alerts)} alerts uncorrelated")
        stack.start_worker("worker-2")
        recovery = settle(stack.db, RECOVERY)
        result = Result("b", "worker SIGKILLed mid-correlation, a new worker started",
                        measure(stack.db, ids(alerts)), tally, time.monotonic() - started,
                        notes + _notes(tally, recovery))
        if not 0 < left < len(alerts):
            result.failures.append("the kill did not land mid-correlation")
        return _finish(result, stack)


def same_batch(tokens: list[str]) -> Result:
    """c. The same batches from four clients at once."""
    started = time.monotonic()
    with Stack("c") as stack:
        web = stack.start_web()
        stack.start_worker()
        alerts = make_alerts(1000, seed=13, prefix="drill-c")
        tally, clients = Tally(), 4
        barrier = threading.Barrier(clients)

        def client():
            producer = Producer(web.port, tokens[0], tally)
            for batch in batches(alerts, 100):
                barrier.wait()  # all four send each batch at the same moment
                producer.post(batch)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tally.seconds = time.monotonic() - began
        recovery = settle(stack.db, RECOVERY)
        result = Result("c", "the same 10 batches of 100 from four clients at once",
                        measure(stack.db, ids(alerts)), tally, time.monotonic() - started,
                        _notes(tally, recovery))
        twice = sum(1 for n in tally.created.values() if n > 1)
        if twice:
            result.failures.append(f"{twice} alerts answered 'created' to two clients")
        return _finish(result, stack)


def two_workers(tokens: list[str]) -> Result:
    """d. Two workers correlating the same backlog (two subscriptions' worth)."""
    started = time.monotonic()
    with Stack("d", CORRELATION_BATCH="100") as stack:
        web = stack.start_web()
        one = batches(make_alerts(1500, seed=14, prefix="drill-d1", hosts=30), 100)
        two = batches(make_alerts(1500, seed=15, prefix="drill-d2", hosts=30), 100)
        both = [b for pair in zip(one, two, strict=True) for b in pair]  # token i % 2
        tally = send(web.port, tokens[:2], both, clients=2)
        stack.start_worker("worker-1")
        stack.start_worker("worker-2")
        at_once, deadline = 0, time.monotonic() + RECOVERY
        with connect(stack.db) as conn:
            while conn.execute(UNCORRELATED).fetchone()[0] and time.monotonic() < deadline:
                # Which workers hold or wait for a correlation lock right now.
                at_once = max(at_once, conn.execute(
                    "SELECT count(DISTINCT s.application_name) FROM pg_locks l "
                    "JOIN pg_stat_activity s USING (pid) WHERE l.locktype = 'advisory' "
                    "AND l.classid = %s", [CORRELATE_LOCK]).fetchone()[0])
                time.sleep(0.02)
        recovery = settle(stack.db, 1)
        sent = {a["SystemAlertId"] for b in both for a in b}
        result = Result("d", "two workers correlating one backlog of 3,000 alerts",
                        measure(stack.db, sent), tally, time.monotonic() - started,
                        _notes(tally, recovery))
        result.notes.append("both workers seen at the correlation locks at once"
                            if at_once > 1 else "the workers were never seen at once")
        return _finish(result, stack)


def connections_terminated(tokens: list[str]) -> Result:
    """e. pg_terminate_backend on all the app's connections during ingest, at most once a
    second, each time one of them is at work (a query or a transaction open)."""
    started = time.monotonic()
    with Stack("e") as stack:
        web = stack.start_web()
        stack.start_beat()
        stack.start_worker().wait_for("ready.", 60)
        alerts = make_alerts(2000, seed=16, prefix="drill-e")
        stop, killed, busy = threading.Event(), [], []
        app = "datname = %s AND application_name LIKE 'soc-%%'"  # the web's and worker's

        def terminate():
            with connect(stack.db) as conn:
                while not stop.wait(0.02):
                    if not conn.execute(f"SELECT count(*) FROM pg_stat_activity WHERE {app} "
                                        "AND state <> 'idle'", [stack.db]).fetchone()[0]:
                        continue
                    n, working = conn.execute(
                        "SELECT count(pg_terminate_backend(pid)), "
                        f"count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity "
                        f"WHERE {app}", [stack.db]).fetchone()
                    killed.append(n)
                    busy.append(working)
                    stop.wait(1.0)

        killer = threading.Thread(target=terminate)
        killer.start()
        try:
            tally = send(web.port, tokens[:1], batches(alerts, 50), clients=2, every=0.4)
        finally:
            stop.set()
            killer.join()
        recovery = settle(stack.db, RECOVERY)
        result = Result("e", f"pg_terminate_backend on the app's connections during "
                        f"ingest, {len(killed)} times ({sum(killed)} connections, "
                        f"{sum(busy)} mid-query)",
                        measure(stack.db, ids(alerts)), tally, time.monotonic() - started,
                        _notes(tally, recovery))
        if not sum(busy):
            result.failures.append("no connection was terminated in the middle of work")
        return _finish(result, stack)


def _finish(result: Result, stack: Stack) -> Result:
    result.judge()
    for name, times in stack.restarted().items():
        # Not a failure of the drill (nothing is lost), but worth reading its log for.
        result.notes.append(f"{name} exited by itself {times} time(s) and was started "
                            f"again, as docker-compose does; see {LOGS / name}.log")
    if not result.ok:
        result.notes.append("logs:\n" + stack.logs())
    return result


DRILLS = {"a": redis_outage, "b": worker_killed, "c": same_batch, "d": two_workers,
          "e": connections_terminated}
