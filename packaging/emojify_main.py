"""PyInstaller entry point: the ``emojify`` command (see packaging/emojify.spec)."""
import sys

from emojify.cli import main

sys.exit(main())
