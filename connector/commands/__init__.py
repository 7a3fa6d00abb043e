"""The `nurture` subcommands, one module per concern."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    from connector.commands.config_cmds import schema, validate
    from connector.commands.db_cmds import db
    from connector.commands.demo_cmds import demo  # issue 13: the story demo replaces run_cmds.demo
    from connector.commands.nurture_cmds import COMMANDS as NURTURE
    from connector.commands.report_cmds import COMMANDS as REPORT
    from connector.commands.run_cmds import sandbox, serve
    from connector.commands.sync_cmds import COMMANDS as SYNC

    for command in (validate, schema, db, serve, sandbox, demo, *SYNC, *NURTURE, *REPORT):
        group.add_command(command)
