"""Entry point: ``python -m emulation.dynamodb --host H --port P --data-dir D``."""

import sys

from emulation.dynamodb.server import main

sys.exit(main())
