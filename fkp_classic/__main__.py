"""``python -m fkp_classic``: the ``fkp`` command line."""

import sys

from .cli import main

sys.exit(main())
