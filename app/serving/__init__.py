"""Serving: the launcher, the room's join address and QR code, the page list, and the one Streamlit seam."""
