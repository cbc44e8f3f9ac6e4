"""``python -m conch`` is the ``conch`` command."""

from conch.cli import main

main()
