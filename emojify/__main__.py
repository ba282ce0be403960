"""``python -m emojify`` is the ``emojify`` command."""

import sys

from emojify.cli import main

sys.exit(main())
