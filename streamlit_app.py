"""RNN Atelier: the entry point. Page config and navigation; each page lives in pages/.

Start the app with ``bash scripts/app.sh`` (it runs ``python -m app.serving.launch run asgi.py``), or
``streamlit run asgi.py``: the server then serves the room feed too, and the very first visitor of a
fresh server who arrives by a deep link (a room's QR code: /fake-or-real) lands on that page.

``streamlit run streamlit_app.py`` serves every page, but cannot spare that first visitor Streamlit's
"Page not found" dialog (streamlit issues 8860, 9624, 9992): Streamlit sees the ``pages/`` folder and
runs its old folder navigation for the server's first session, and this script runs only inside it,
after the dialog is sent (tried: applying app/serving/streamlit_seam.py's fix at the top of this script
still shows it; applied when asgi.py is imported, at server start, it does not). Later visitors are
fine. The server's log says so when it happens.
"""

import logging

import streamlit as st

from app import ui
from app.serving import streamlit_seam
from app.serving.site import HOME, PAGES
from app.ui import quiz as ui_quiz
from app.ui import serve as ui_serve

if streamlit_seam.old_navigation_running():  # the first session of a plain `streamlit run streamlit_app.py`
    logging.getLogger("atelier").warning(
        "Started as `streamlit run streamlit_app.py`: this server's first visitor, if they came by a deep "
        "link (a room's QR code), got Streamlit's 'Page not found' dialog, and phones in a room poll without "
        "the room feed. Start the app with `bash scripts/app.sh` (or `streamlit run asgi.py`).")

st.set_page_config(page_title="RNN Atelier", page_icon="🧵", layout="wide")

navigation = st.navigation(
    [st.Page(HOME.file, title=HOME.title, icon=HOME.icon, default=True)]
    + [st.Page(page.file, title=page.title, icon=page.icon, url_path=page.url_path) for page in PAGES]
)
ui.browser_owner()  # this browser's owner token (a cookie): its uploads and models are its own
ui_quiz.warm_up()  # returns at once; fakes are written in the background
ui_serve.say_if_moved()  # behind scripts/serve.sh: a worker died and this page restarted on another
ui.store_warnings()  # a damaged model file is named on every page, with how to restore it
# The browser loads the table and chart code while the visitor reads this page. The explorer draws its
# plots itself: there Plotly's code would only compete with the visitor's first lookups.
ui.warm_up_charts(plotly=navigation.url_path != "explorer")
navigation.run()
