"""`python -m connector` is the `nurture` command."""

from connector.cli import main

main()
