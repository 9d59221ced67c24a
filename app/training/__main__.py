"""``python -m app.training``: train a bundle's models (see app/training/train.py)."""

import sys

from app.training.train import main

sys.exit(main())
