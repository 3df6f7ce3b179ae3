"""The ``vnfm`` command line: thin commands over the service layer."""

from vnfm_runner.cli.main import main

__all__ = ["main"]
