"""``python -m distill_worker`` (with the worker folder on the path) is the same as ``python main.py``."""

import sys

from .cli import main

sys.exit(main())
