"""One simulated run for every dashboard test: the demo stack (sandbox CRMs, gunicorn with two workers, the
worker on a simulated clock) plays a fixed-seed story headless, so pages show real data."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from connector.demo.stack import DemoOptions, DemoStack

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")  # module: its environment is restored before the next test module runs
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    saved = dict(os.environ)
    stack = DemoStack(DemoOptions(REPO / "app.yaml", port=free_port(), people=30, seed=3, days=8,
                                  workdir=tmp_path_factory.mktemp("demo")))
    try:
        stack.start(live_worker=False)
        stack.run_headless(step=timedelta(hours=24))
        yield stack
    finally:
        stack.stop()
        os.environ.clear()  # the stack exported its settings; later tests get the environment they had
        os.environ.update(saved)
