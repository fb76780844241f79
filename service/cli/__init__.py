"""The ``claimwatch`` command: :mod:`service.cli.main` and one module per subcommand."""

from service.cli.main import main

__all__ = ["main"]
