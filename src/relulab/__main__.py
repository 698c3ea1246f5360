"""``python -m relulab``: the command line."""

import sys

from relulab.cli import main

sys.exit(main())
