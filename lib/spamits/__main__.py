"""``python -m spamits``: the command line of :mod:`spamits.cli`."""

import sys

from spamits.cli import main

sys.exit(main())
