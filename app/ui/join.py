"""The join panel: a QR code of the address phones in the room should open (see ``app/serving/network.py``)."""

from __future__ import annotations

import os

import streamlit as st

from app.serving import network

FULL_SCREEN_QR_PX = 640


@st.cache_resource(show_spinner=False)
def _lan_ip() -> str | None:
    return network.lan_ip()  # once per process: the laptop does not change networks mid-talk


@st.cache_data(show_spinner=False, max_entries=16)
def _qr_png(url: str, box_size: int) -> bytes:
    return network.qr_code_png(url, box_size)


def address(page: str) -> network.JoinAddress:
    """Where phones should open page (its url_path, "" for home) on this server."""
    return network.join_address(page, public_url=os.environ.get(network.PUBLIC_URL_ENV), browser_url=st.context.url,
                                listen_address=st.get_option("server.address"),
                                port=st.get_option("server.port"), lan=_lan_ip())


def join_panel(page: str, key: str = "join") -> network.JoinAddress:
    """Draw the QR code of page's join address, the address as text, what may stop phones reaching
    it, and a toggle that blows the QR code up to the page's width (to scan from the back of a room).
    key prefixes the panel's widget keys, so that one page can hold two panels."""
    join = address(page)
    if join.warning:
        st.warning(join.warning)
    # The address is written out under the code, not in a caption: a caption draws it as a faded link
    # (3.2:1 contrast). The alt text says what the picture is, for screen readers.
    alt = f"QR code that opens {join.url}"
    if st.toggle("Full-screen QR code (for the back of the room)", key=f"{key}_full_screen"):
        # 640 px, not the page's width: the code and its address then fit a 1080 px projector
        st.image(_qr_png(join.url, 16), alt=alt, width=FULL_SCREEN_QR_PX, output_format="PNG")
        st.markdown(f"## `{join.url.replace('`', '%60')}`")  # a code span: shown as typed, never as HTML
    else:
        st.image(_qr_png(join.url, 8), alt=alt, width=260, output_format="PNG")
        st.code(join.url, language=None)  # with a copy button
    st.caption(f"Address from {join.source}. Set ${network.PUBLIC_URL_ENV} to give phones another one "
               "(a proxy's, a tunnel's).")
    return join
