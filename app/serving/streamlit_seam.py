"""The one place that touches Streamlit's non-public API. Everything else uses Streamlit's documented API
(``st.*``, config options, the ``st-key-<key>`` class of a keyed container or widget for styling).

Written for ``streamlit==1.67.0`` (requirements.txt). Each use below can break with any upgrade; each
raises ``SeamBroken`` (or is caught by tests/test_streamlit_seam.py) instead of quietly doing nothing.

1. **Deep links on a fresh server** (``first_visitor_deep_links``): sets the class attribute
   ``streamlit.runtime.pages_manager.PagesManager.uses_pages_directory`` to False. Streamlit decides once
   per process, when the first session starts, whether the app is an old-style multipage app (a ``pages/``
   folder beside the entry script); only the first ``st.navigation`` call says otherwise. So the very
   first session runs the old navigation, whose pages are named after their files (``fake_or_real``):
   the QR code's ``/fake-or-real`` is not among them, and that visitor gets the "Page not found" dialog
   over the right page, inert until closed (streamlit issues 8860, 9624, 9992). Our ``pages/`` are
   ``st.Page`` files that streamlit_app.py navigates, so this says so before the first session, exactly as
   ``st.navigation`` itself does (``streamlit/commands/navigation.py``). It must run before the first
   session's script run: in the launcher (app/serving/launch.py) or when ``asgi.py`` is imported by
   ``streamlit run asgi.py`` (the server imports it at start). ``streamlit run streamlit_app.py`` runs the
   script only inside the first session, after the old navigation has already sent the dialog: there is no
   fix from the script (see streamlit_app.py).

2. **The theme message built once** (``build_theme_once``): replaces the module function
   ``streamlit.runtime.app_session._populate_theme_msg``. Every script run, fragment runs included, starts
   with a "new session" message that Streamlit rebuilds from the config: each theme section scans all
   ~200 options. Measured on a room phone's rerun, that was a fifth of its CPU. The config cannot change
   while a server runs (no file watcher), so each section's message is built once and copied after. No
   Streamlit issue: a measured saving (streamlit 1.67).

3. **The command line** (``streamlit_cli``): ``streamlit.web.cli.main``, the click command behind the
   ``streamlit`` executable (and ``python -m streamlit``). Not documented as API; the launcher calls it after
   1. and 2. so they happen in the server's own process, before it starts.

4. **The frontend's chunk files** (``chart_chunks``): reads Streamlit's frontend build
   (``streamlit/static/static/js``) for the code-split chunks ``DataFrame.*.js`` (tables: 1.2 MB) and
   ``PlotlyChart.*.js`` (4.7 MB), served at ``/static/js/<name>``. ``app.ui.warm_up_charts`` has the browser
   load them in its idle time, so the first table or chart of a visit is not a wait of seconds. The names
   are Vite's build output (streamlit 1.67); an empty list only loses the warm-up.

5. **One CSS selector** (``MAIN_BLOCK_SELECTOR``): ``[data-testid="stMainBlockContainer"]``, the main
   column's box, whose top padding (room for the header) the phone page of a room trims
   (app/ui/room.py). A keyed container's ``st-key-<key>`` class cannot reach an element around it, and no
   option sets that padding.
"""

from __future__ import annotations

from pathlib import Path

import streamlit
from streamlit.runtime import app_session
from streamlit.runtime.pages_manager import PagesManager

TESTED_WITH = "1.67.0"


class SeamBroken(RuntimeError):
    """A non-public Streamlit API this app relies on is not there (or not as it was): see this module."""

    def __init__(self, what: str):
        super().__init__(f"{what} (app/serving/streamlit_seam.py was written for streamlit {TESTED_WITH}, this is "
                         f"{streamlit.__version__}): see that module's docstring for what it was for")


# ---------------------------------------------------------------- 1. deep links


def first_visitor_deep_links() -> None:
    """Say that this app navigates with ``st.navigation``, before the first session starts (see 1. above)."""
    if "uses_pages_directory" not in vars(PagesManager):
        raise SeamBroken("PagesManager.uses_pages_directory is gone: the first visitor's deep link may get "
                         "'Page not found'")
    PagesManager.uses_pages_directory = False


def old_navigation_running() -> bool:
    """Whether this script run is Streamlit's old ``pages/``-folder navigation: the first session of a server
    that 1. was not applied to (plain ``streamlit run streamlit_app.py``). Its deep link got the dialog."""
    if "uses_pages_directory" not in vars(PagesManager):
        raise SeamBroken("PagesManager.uses_pages_directory is gone")
    return PagesManager.uses_pages_directory is True


# ---------------------------------------------------------------- 2. the theme message


def build_theme_once() -> None:
    """Build each theme section's message once per process and copy it after (see 2. above). Calling it
    again changes nothing."""
    build = getattr(app_session, "_populate_theme_msg", None)
    if build is None:
        raise SeamBroken("streamlit.runtime.app_session._populate_theme_msg is gone: the theme is rebuilt on "
                         "every script run")
    if getattr(build, "built_once", False):
        return
    built = {}

    def copy_built(message, section: str = "theme") -> None:
        if section not in built:
            built[section] = type(message)()
            build(built[section], section)
        if built[section].ListFields():  # an empty section leaves the message unset, as Streamlit does
            message.CopyFrom(built[section])

    copy_built.built_once = True
    app_session._populate_theme_msg = copy_built


# ---------------------------------------------------------------- 3. the command line


def streamlit_cli():
    """The ``streamlit`` command (a click command: call it to parse ``sys.argv`` and run)."""
    try:
        from streamlit.web.cli import main  # imported only to start a server: the pages never need it
    except ImportError as error:
        raise SeamBroken(f"streamlit.web.cli.main is gone ({error})") from error
    return main


# ---------------------------------------------------------------- 4. the chart code's files

STATIC_JS = Path(streamlit.__file__).parent / "static" / "static" / "js"
STATIC_JS_URL = "/static/js/"
TABLE_CHUNKS = "DataFrame.*.js"
PLOTLY_CHUNKS = "PlotlyChart.*.js"


def chart_chunks(pattern: str) -> list[str]:
    """The file names of this Streamlit's frontend chunks matching ``pattern`` (TABLE_CHUNKS or PLOTLY_CHUNKS),
    served at ``STATIC_JS_URL + name``; empty if this Streamlit names or places them otherwise."""
    return sorted(found.name for found in STATIC_JS.glob(pattern))


# ---------------------------------------------------------------- 5. CSS

MAIN_BLOCK_SELECTOR = '[data-testid="stMainBlockContainer"]'

