"""The data-first state machine (tests/sync/data_first_machine.py) for longer than `make test` affords.

    .venv/bin/python benchmarks/data_first_soak.py [--examples 100] [--steps 25]

Random edits on both sandboxes (blanks, values with no mapping, values too long, simultaneous edits of the
same and different fields), redeliveries, partial worker runs and drains; after each drain the issue-10
invariants must hold. Prints examples run, steps, and seconds per example; exits non-zero on a counterexample
(hypothesis prints the shrunk sequence).
"""

from __future__ import annotations

import argparse
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from rig import machine, start

from connector.engine.worker import Worker
from tests.sync.conftest import SyncRig
from tests.sync.data_first_machine import DataFirstMachine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--steps", type=int, default=25)
    args = parser.parse_args()
    bench = start()
    try:
        bench.clients.hubspot.max_wait_s = bench.clients.salesforce.max_wait_s = 0.2
        rig = SyncRig(bench.boxes, bench.settings, bench.engine, bench.clients,
                      Worker(bench.settings, bench.engine, bench.clients))
        runs = {"n": 0}

        class Machine(DataFirstMachine):
            def __init__(self) -> None:
                runs["n"] += 1
                super().__init__()

        Machine.rig = rig
        started = time.monotonic()
        run_state_machine_as_test(Machine, settings=settings(
            max_examples=args.examples, stateful_step_count=args.steps, deadline=None,
            suppress_health_check=list(HealthCheck)))
        seconds = time.monotonic() - started
        print(f"{machine()}\ndata-first state machine: {runs['n']} examples x up to {args.steps} steps, "
              f"{seconds:.1f} s ({seconds / max(runs['n'], 1):.2f} s per example), all invariants held")
    finally:
        bench.stop()


if __name__ == "__main__":
    main()
