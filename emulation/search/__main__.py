"""Entry point: ``python -m emulation.search --host H --port P --data-dir D``."""

import sys

from emulation.search.server import main

sys.exit(main())
