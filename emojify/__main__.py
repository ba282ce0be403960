"""``python -m emojify`` is the ``emojify`` command."""

import sys

from emojify.launch import emojify

sys.exit(emojify())
