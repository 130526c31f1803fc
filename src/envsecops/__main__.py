"""Allow `python -m envsecops`."""

import sys

from envsecops.cli.main import main

sys.exit(main())
