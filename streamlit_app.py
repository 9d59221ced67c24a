"""RNN Atelier: the entry point. Page config and navigation; each page lives in pages/."""

import streamlit as st

from app import ui
from app.serving.site import HOME, PAGES
from app.ui import quiz as ui_quiz
from app.ui import serve as ui_serve

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
