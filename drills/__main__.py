"""python -m drills [--markdown] [a b c d e]: run the drills, print what became of the
alerts, exit 1 if any alert was lost or duplicated or any was left uncorrelated."""

import argparse
import signal
import sys
import time
import traceback

from drills.faults import DRILLS
from drills.stack import LOGS, TEMPLATE, drop_database, prepare_template

COLUMNS = ("drill", "what is done", "sent", "stored", "lost", "duplicated", "uncorrelated",
           "seconds")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drills", description=__doc__)
    parser.add_argument("drills", nargs="*", metavar="DRILL",
                        help="which drills (a to e); all by default")
    parser.add_argument("--markdown", action="store_true",
                        help="also print the results as a Markdown table")
    args = parser.parse_args(argv)
    # Stopped from outside (a CI timeout): stop the stack too, through the drills' `with`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = args.drills or list(DRILLS)
    if unknown := set(names) - set(DRILLS):
        parser.error(f"no drill {', '.join(sorted(unknown))}; the drills are a to e")
    started = time.monotonic()
    tokens = prepare_template()
    print(f"drills: template database {TEMPLATE} ready in {time.monotonic() - started:.1f} s;"
          f" logs in {LOGS}", flush=True)
    results, broken = [], []
    for name in names:
        try:
            result = DRILLS[name](tokens)
        except Exception:  # noqa: BLE001 — a drill that cannot run has failed; the others run
            print(f"FAIL {name}. could not run:\n{traceback.format_exc()}", flush=True)
            broken.append(name)
            continue
        results.append(result)
        o = result.outcome
        print(f"{'ok  ' if result.ok else 'FAIL'} {name}. {result.done}: sent {o.sent}, "
              f"stored {o.stored}, lost {o.lost}, duplicated {o.duplicated}, uncorrelated "
              f"{o.uncorrelated} ({result.seconds:.0f} s)", flush=True)
        for line in result.failures:
            print(f"     failed: {line}")
        for line in result.notes:
            print(f"     {line}")
        if result.ok:
            drop_database(f"{TEMPLATE}_{name}")
    total = time.monotonic() - started
    if args.markdown:
        print("\n| " + " | ".join(COLUMNS) + " |\n|" + " --- |" * len(COLUMNS))
        for r in results:
            o = r.outcome
            print(f"| {r.name} | {r.done} | {o.sent:,} | {o.stored:,} | {o.lost} | "
                  f"{o.duplicated} | {o.uncorrelated} | {r.seconds:.0f} |")
    failed = [r.name for r in results if not r.ok] + broken
    print(f"drills: {len(names) - len(failed)} of {len(names)} passed in {total:.0f} s"
          + (f"; failed: {' '.join(failed)}" if failed else ""))
    if not failed:
        drop_database(TEMPLATE)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
