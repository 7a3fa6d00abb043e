"""The `nurture` subcommands, one module per concern."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    from connector.commands.config_cmds import schema, validate
    from connector.commands.db_cmds import db
    from connector.commands.demo_cmds import demo  # the story demo (issue 13)
    from connector.commands.init_cmds import init
    from connector.commands.install_cmds import install, uninstall
    from connector.commands.nurture_cmds import COMMANDS as NURTURE
    from connector.commands.preflight_cmds import preflight
    from connector.commands.report_cmds import COMMANDS as REPORT
    from connector.commands.run_cmds import prune, serve
    from connector.commands.sandbox_cmds import sandbox
    from connector.commands.sync_cmds import COMMANDS as SYNC

    for command in (init, validate, schema, db, serve, prune, sandbox, demo, preflight, install, uninstall, *SYNC,
                    *NURTURE, *REPORT):
        group.add_command(command)
