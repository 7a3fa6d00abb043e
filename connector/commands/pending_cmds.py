"""Commands whose work a later issue builds. Each says so plainly and exits 4; none pretends to work."""

from __future__ import annotations

import click

from connector.commands.common import not_built


@click.command()
@click.argument("email")
def explain(email: str) -> None:
    """[not built yet] Why a contact has its score, segments, stage, track and alerts."""
    not_built("explain", "the nurture brain issue")


COMMANDS = [explain]
