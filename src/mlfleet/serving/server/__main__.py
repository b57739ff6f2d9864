"""``python -m mlfleet.serving.server [OPTIONS]``: same as ``mlfleet serve``."""

import sys

from mlfleet.serving.server.cli import main

sys.exit(main())
