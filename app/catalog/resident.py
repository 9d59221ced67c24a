"""What a server process keeps for its whole life (models, corpora), out of the garbage collector's way."""

from __future__ import annotations

import gc


def kept_for_good(loaded):
    """Take what is alive now (a model just loaded, a corpus just read, the server's own modules)
    out of the garbage collector's rounds (gc.freeze, after one last collection): a full collection
    otherwise walks these ~400,000 long-lived objects again and again, pausing every visitor of
    the server process for 0.2-0.5 s (measured under a room's load). Returns ``loaded``."""
    gc.collect()
    gc.freeze()
    return loaded
