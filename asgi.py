"""The app as one server: the pages of streamlit_app.py, plus the small route that phones in a room poll.

``streamlit run asgi.py`` (scripts/app.sh and scripts/serve.sh start it through app/serving/launch.py) serves
both; ``streamlit run streamlit_app.py`` still serves every page, and phones in a room then fall back to
asking Streamlit itself once a second.
"""

import streamlit as st
from starlette.routing import Route

from app.game.room_feed import FEED_PATH, room_state

atelier = st.App("streamlit_app.py", routes=[Route(FEED_PATH, room_state)])
