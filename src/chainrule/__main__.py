"""``python -m chainrule``: the command line, as ``chainrule``."""

import sys

from chainrule.cli import main

sys.exit(main())
