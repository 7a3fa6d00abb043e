"""The data-first state machine (tests/sync/data_first_machine.py), bounded for `make test`; a longer run is
benchmarks/data_first_soak.py."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.sync.data_first_machine import DataFirstMachine


def test_no_sequence_of_edits_loses_data(rig: Any) -> None:
    machine = type("Machine", (DataFirstMachine,), {"rig": rig})
    run_state_machine_as_test(machine, settings=settings(
        max_examples=6, stateful_step_count=10, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
