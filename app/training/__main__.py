"""``python -m app.training``: train a bundle's models (see app/training/cli.py)."""

import sys

from app.training.cli import main

sys.exit(main())
