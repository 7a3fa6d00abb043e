"""The shared API budget: counted in the store, so every worker process spends from one purse."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from connector.crm.budget import Budget
from connector.crm.errors import BudgetExhausted


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_hubspot_window_is_shared_between_budget_objects(store_engine: Engine) -> None:
    t = FakeTime()
    one = Budget(store_engine, hubspot_per_10s=10, hubspot_share=0.5, salesforce_share=0.8, clock=t.clock,
                 sleep=t.sleep)
    two = Budget(store_engine, hubspot_per_10s=10, hubspot_share=0.5, salesforce_share=0.8, clock=t.clock,
                 sleep=t.sleep)
    for budget in (one, two, one, two, one):  # 5 = the allowance (10 x 0.5), taken by two "processes"
        budget.spend("hubspot")
    assert t.slept == []
    two.spend("hubspot")  # the sixth waits for the window to roll over
    assert t.slept and t.slept[0] == pytest.approx(10.0)


def test_salesforce_daily_share_pauses_only_non_urgent_work(store_engine: Engine) -> None:
    budget = Budget(store_engine, hubspot_per_10s=190, hubspot_share=0.8, salesforce_share=0.8)
    budget.note_salesforce_usage(79_000, 100_000)
    budget.check("salesforce", urgent=False)
    budget.note_salesforce_usage(81_000, 100_000)
    budget.check("salesforce", urgent=True)
    with pytest.raises(BudgetExhausted):
        budget.check("salesforce", urgent=False)
