"""The join address: what the QR code carries, when phones cannot reach it, and the join panel itself."""

import io
import ipaddress

import pytest
from PIL import Image
from streamlit import config
from streamlit.testing.v1 import AppTest

from app.serving import network
from app.serving.network import join_address


def test_the_public_url_wins_and_gets_the_page_path_only_when_it_has_none():
    assert join_address("fake-or-real", public_url="http://talk.example:8080", lan="10.0.0.9").url == \
        "http://talk.example:8080/fake-or-real"
    assert join_address("fake-or-real", public_url="https://talk.example/", lan="10.0.0.9").url == \
        "https://talk.example/fake-or-real"
    kept = "http://10.0.0.7:8501/room?code=42"
    address = join_address("fake-or-real", public_url=kept, listen_address="127.0.0.1", lan=None)
    assert address.url == kept and address.warning is None  # the host said where phones go: a proxy, say


def test_a_loopback_browser_gets_the_lan_address_with_the_browsers_port():
    # behind scripts/serve.sh the browser's port is the proxy's, not the worker's server.port
    address = join_address("fake-or-real", browser_url="http://localhost:8080/fake-or-real", port=8601,
                           lan="192.168.1.20")
    assert address.url == "http://192.168.1.20:8080/fake-or-real" and address.warning is None
    assert join_address("", browser_url=None, port=8501, lan="192.168.1.20").url == "http://192.168.1.20:8501/"
    assert join_address("room", browser_url="http://127.0.0.1:8501/", lan="fd00::5").url == "http://[fd00::5]:8501/room"


def test_a_browser_on_the_lan_address_is_what_phones_open():
    address = join_address("fake-or-real", browser_url="http://192.168.1.20:8501/explorer?word=silk", lan="10.1.1.1")
    assert address.url == "http://192.168.1.20:8501/fake-or-real"


@pytest.mark.parametrize("listen", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_a_server_on_loopback_only_says_how_to_start_for_a_room(listen):
    address = join_address("fake-or-real", browser_url="http://localhost:8501/", listen_address=listen,
                           lan="192.168.1.20")
    assert "phones cannot reach it" in address.warning and network.ROOM_START in address.warning


@pytest.mark.parametrize("listen", [None, "", "0.0.0.0", "::", "192.168.1.20"])
def test_a_server_on_every_interface_gets_no_warning(listen):
    assert join_address("fake-or-real", listen_address=listen, lan="192.168.1.20").warning is None


def test_no_network_address_at_all_is_said():
    address = join_address("fake-or-real", browser_url="http://localhost:8501/", lan=None)
    assert address.url == "http://localhost:8501/fake-or-real" and "Wi-Fi" in address.warning


def test_loopback_names_and_addresses():
    assert all(map(network.is_loopback, ["localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]"]))
    assert not any(map(network.is_loopback, ["", None, "0.0.0.0", "192.168.1.20", "talk.example", "fd00::5"]))


def test_this_machines_lan_address_is_a_real_non_loopback_address_or_none():
    found = network.lan_ip()
    assert found is None or not ipaddress.ip_address(found).is_loopback


def test_qr_code_is_a_png_that_grows_with_its_box_size():
    small = Image.open(io.BytesIO(network.qr_code_png("http://192.168.1.20:8501/fake-or-real")))
    big = Image.open(io.BytesIO(network.qr_code_png("http://192.168.1.20:8501/fake-or-real", box_size=16)))
    assert small.format == "PNG" and small.width == small.height >= 100 and big.width == 2 * small.width


def join_page():
    from app.ui import join as ui_join

    ui_join.join_panel("fake-or-real", key="test_join")


def test_the_join_panel_warns_on_loopback_and_has_a_full_screen_view(monkeypatch):
    monkeypatch.delenv(network.PUBLIC_URL_ENV, raising=False)
    listening = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    try:
        at = AppTest.from_function(join_page)
        at.context["url"] = "http://localhost:8501/fake-or-real"
        at.run()
    finally:
        config.set_option("server.address", listening)
    assert not at.exception, at.exception
    assert any("listens only on 127.0.0.1" in w.value for w in at.warning)
    small = at.get("image")[0].proto.imgs[0]
    expected = join_address("fake-or-real", browser_url="http://localhost:8501/", lan=network.lan_ip()).url
    assert small.alt == f"QR code that opens {expected}"  # what the picture is, for a screen reader
    assert any(c.value == expected for c in at.code)  # the address written out, with a copy button
    assert not any(m.value.startswith("## ") for m in at.markdown)
    at.toggle(key="test_join_full_screen").set_value(True).run()
    big = at.get("image")[0].proto.imgs[0]
    assert big.alt == small.alt and big.url != small.url  # a bigger drawing of the same address
    assert any(m.value == f"## `{expected}`" for m in at.markdown)  # readable from the back


def test_the_join_panel_shows_the_public_url_as_text_never_as_html(monkeypatch):
    monkeypatch.setenv(network.PUBLIC_URL_ENV, "http://talk.example/<b>x</b>`")
    at = AppTest.from_function(join_page).run()
    at.toggle(key="test_join_full_screen").set_value(True).run()
    assert not at.exception and not at.warning
    shown = [m.value for m in at.markdown if "talk.example" in m.value]
    assert shown and all(value.startswith("## `") and value.count("`") == 2 for value in shown)
