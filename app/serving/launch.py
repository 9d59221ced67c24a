"""``python -m app.serving.launch run asgi.py [options]``: ``streamlit run`` as a server for a room, set up
before anything else loads: one thread for numeric libraries, no "Page not found" dialog for the very
first visitor of a fresh server who arrives by a deep link, and the theme built once. The last two touch
Streamlit's non-public API, which lives in app/serving/streamlit_seam.py (what, why, and for which
Streamlit issue); this only calls it, and stops with ``SeamBroken`` if a Streamlit upgrade took it away.

Threads: a server's work is many small requests (a 5,000 × 100 similarity, a 300-character LSTM
pass), one visitor's at a time per core. OpenBLAS and OpenMP thread pools split each of them across
the cores and then busy-wait for the next: measured on a worker, an explorer query cost 176 ms of CPU
with numpy's default threads and 46 ms with one, and the spinning took the core another worker needed.
A worker is one process on one core (scripts/serve.sh starts one per core). Set the variables
yourself to override.

scripts/app.sh, scripts/serve.sh and the browser tests start the app this way. ``streamlit run asgi.py``
gets the deep-link fix too (asgi.py applies it when the server imports it); ``streamlit run
streamlit_app.py`` cannot (see streamlit_app.py).
"""

import os

for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy and torch load
    os.environ.setdefault(_threads, "1")

from app.serving import streamlit_seam  # noqa: E402

build_theme_once = streamlit_seam.build_theme_once  # also named here, where tests/test_room_feed.py looks


def prepare() -> None:
    """What the server process needs before its first session: the deep-link fix and the theme built once."""
    streamlit_seam.first_visitor_deep_links()
    streamlit_seam.build_theme_once()


if __name__ == "__main__":
    prepare()
    streamlit_seam.streamlit_cli()()
