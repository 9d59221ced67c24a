"""The app as one server: the pages of streamlit_app.py, plus the small route that phones in a room poll.

``streamlit run asgi.py`` serves both (scripts/app.sh and scripts/serve.sh start it through
app/serving/launch.py, which also builds the theme once); ``streamlit run streamlit_app.py`` still serves
every page, and phones in a room then fall back to asking Streamlit itself once a second.

The server imports this file when it starts, before any visitor's session: the moment to apply the fix
that spares the first visitor of a fresh server who arrives by a deep link (the QR code's /fake-or-real)
Streamlit's "Page not found" dialog (app/serving/streamlit_seam.py). So every way of starting it gets it.
"""

import streamlit as st
from starlette.routing import Route

from app.game.room_feed import FEED_PATH, room_state
from app.serving import streamlit_seam

streamlit_seam.first_visitor_deep_links()
atelier = st.App("streamlit_app.py", routes=[Route(FEED_PATH, room_state)])
