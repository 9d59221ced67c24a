"""``python -m app.serving.launch run asgi.py [options]``: ``streamlit run`` as a server for a room, set up
before anything else loads: one thread for numeric libraries, no "Page not found" dialog for the very
first visitor of a fresh server who arrives by a deep link, and the theme built once (``build_theme_once``).

Threads: a server's work is many small requests (a 5,000 × 100 similarity, a 300-character LSTM
pass), one visitor's at a time per core. OpenBLAS and OpenMP thread pools split each of them across
the cores and then busy-wait for the next: measured on a worker, an explorer query cost 176 ms of CPU
with numpy's default threads and 46 ms with one, and the spinning took the core another worker needed.
A worker is one process on one core (scripts/serve.sh starts one per core). Set the variables
yourself to override.

Deep links: Streamlit decides once per process, when the first session starts, whether the app is an old-style
multipage app (a ``pages/`` folder beside the entry script), and only the first ``st.navigation`` call
says otherwise. So the first session runs the old navigation, where pages are named after their files
(``fake_or_real``): the QR code's ``/fake-or-real`` is not among them, and that visitor sees the dialog
over the right page, which stays inert until it is closed (streamlit issues 8860, 9624, 9992). Our
``pages/`` are ``st.Page`` files that ``streamlit_app.py`` navigates, so this says so before the first
session, exactly as that first ``st.navigation`` call would. scripts/app.sh, scripts/serve.sh and the
browser tests start the app this way.
"""

import os

for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy and torch load
    os.environ.setdefault(_threads, "1")

from streamlit.runtime import app_session  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.web.cli import main  # noqa: E402


def build_theme_once() -> None:
    """Every script run, fragment runs included, starts with a "new session" message that Streamlit
    rebuilds from the config: each theme section scans all ~200 options. Measured on a room phone's
    rerun, that was a fifth of its CPU. The config cannot change while a server runs (no file
    watcher), so each section's message is built once and copied after. Left alone if a later
    Streamlit has no such function."""
    build = getattr(app_session, "_populate_theme_msg", None)
    if build is None:
        return
    built = {}

    def copy_built(message, section: str = "theme") -> None:
        if section not in built:
            built[section] = type(message)()
            build(built[section], section)
        if built[section].ListFields():  # an empty section leaves the message unset, as Streamlit does
            message.CopyFrom(built[section])

    app_session._populate_theme_msg = copy_built


if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    build_theme_once()
    main()
