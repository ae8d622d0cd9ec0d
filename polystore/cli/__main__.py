"""``python -m polystore.cli``: the ``polystore`` command without its console script."""

from polystore.cli.main import main

main()
