"""``python -m vnfm_runner`` is the ``vnfm`` command."""

from vnfm_runner.cli import main

main()
