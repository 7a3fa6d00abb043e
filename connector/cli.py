"""The `nurture` command. Exit codes scripts can rely on:

0 success · 1 operational failure (a CRM or the store unreachable, a record not found) · 2 usage error ·
3 configuration invalid (or a secret it needs is unset)
"""

from __future__ import annotations

import sys

import click

from connector import __version__
from connector.commands import register
from connector.commands.common import EXIT_CONFIG, EXIT_FAILURE


class NurtureGroup(click.Group):
    """Accepts `--config FILE` after the subcommand too (`nurture validate --config x.yaml`), as admins type it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_config(args))


def hoist_config(args: list[str]) -> list[str]:
    """Move every `--config X` / `--config=X` to the front, where the group option is parsed."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == "--config" and i + 1 < len(args):
            front += args[i:i + 2]
            i += 2
            continue
        if arg.startswith("--config="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


@click.group(cls=NurtureGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="nurture")
@click.option("--config", "config_path", default="app.yaml", show_default=True, envvar="NURTURE_CONFIG",
              type=click.Path(dir_okay=False), help="The installation manifest (env: NURTURE_CONFIG).")
@click.pass_context
def cli(ctx: click.Context, config_path: str) -> None:
    """Nurture Connector: HubSpot <-> Salesforce sync with a lead-nurture brain."""
    ctx.obj = {"config_path": config_path}


register(cli)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: a one-line reason, never a traceback
        from connector.logs import redactor

        click.echo(f"error: {redactor().redact(f'{type(exc).__name__}: {exc}')}", err=True)
        sys.exit(EXIT_FAILURE)


__all__ = ["EXIT_CONFIG", "cli", "main"]
