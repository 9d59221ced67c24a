"""The address a room joins by: what the speaker's QR code carries, and whether phones can reach it.

A phone in the room cannot open ``localhost``: the QR code must carry the laptop's address on the
room's network. In order of preference:

1. ``$ATELIER_PUBLIC_URL``, taken as it is (a proxy, a tunnel, a name the venue gave the laptop);
2. the address the speaker's own browser used, when it is not a loopback address;
3. the laptop's LAN address (the one Streamlit prints as its "Network URL") with the port the
   speaker's browser used (behind ``scripts/serve.sh`` that is the proxy's port, not a worker's).

A server that listens only on loopback (``--server.address 127.0.0.1``) cannot be reached from a
phone whatever the QR code says: ``JoinAddress.warning`` then says how to start it for a room.

    python -m app.serving.network --port 8501     # prints the join address (scripts/serve.sh uses it)
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit, urlunsplit

PUBLIC_URL_ENV = "ATELIER_PUBLIC_URL"
DEFAULT_PORT = 8501
ROOM_START = "bash scripts/app.sh --server.address 0.0.0.0"  # or scripts/serve.sh, which does it itself
# Any routable address works: connecting a UDP socket only picks the interface of the default route,
# it sends no packet (this is how Streamlit finds the address it prints as "Network URL").
ROUTE_PROBE = ("10.255.255.255", 1)


@dataclass(frozen=True)
class JoinAddress:
    url: str  # what the QR code carries
    source: str  # where the address came from, in words for the page
    warning: str | None = None  # why phones may not reach it, and what to do


def is_loopback(host: str | None) -> bool:
    """Whether host (a name or an IP address) only reaches this machine."""
    if not host:
        return False
    if host.strip("[]").lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listens_only_on_loopback(listen_address: str | None) -> bool:
    """Streamlit's server.address: unset, "" or 0.0.0.0 / :: means every interface."""
    return is_loopback(listen_address)


def default_route_ip() -> str | None:
    """The address of the interface that the default route leaves by, or None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(ROUTE_PROBE)
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if is_loopback(address) or address == "0.0.0.0" else address


def first_interface_ip() -> str | None:
    """The first IPv4 address of a network interface that is neither loopback nor link-local."""
    import psutil

    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family != socket.AF_INET:
                continue
            ip = ipaddress.ip_address(address.address)
            if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
                return address.address
    return None


def lan_ip() -> str | None:
    """The laptop's address on the room's network: Streamlit's Network URL, else the first interface."""
    return default_route_ip() or first_interface_ip()


def with_path(url: str, path: str) -> str:
    """url with path put in place of an empty or bare "/" path (a full URL is kept as it is)."""
    parts = urlsplit(url)
    if parts.path.strip("/"):
        return url
    return urlunsplit((parts.scheme or "http", parts.netloc, "/" + path.strip("/"), parts.query, ""))


def join_address(path: str, *, public_url: str | None = None, browser_url: str | None = None,
                 listen_address: str | None = None, port: int = DEFAULT_PORT,
                 lan: str | None = None) -> JoinAddress:
    """The address phones should open to reach the page at path (see the module docstring).

    public_url is $ATELIER_PUBLIC_URL, browser_url the address the speaker's browser shows,
    listen_address and port Streamlit's server.address and server.port, lan the LAN address
    (``lan_ip()``; a parameter so that tests and callers decide whether to look it up)."""
    if public_url:
        return JoinAddress(with_path(public_url, path), f"${PUBLIC_URL_ENV}")
    loopback_warning = (
        f"This server listens only on {listen_address}: phones cannot reach it. For a room, restart it "
        f"with `{ROOM_START}` (or `bash scripts/serve.sh`), or set {PUBLIC_URL_ENV} if a proxy "
        f"already serves it.") if listens_only_on_loopback(listen_address) else None
    browser = urlsplit(browser_url or "")
    if browser.hostname and not is_loopback(browser.hostname):
        return JoinAddress(with_path(f"{browser.scheme}://{browser.netloc}", path), "this browser's address",
                           loopback_warning)
    port = browser.port or port
    if lan is None:
        return JoinAddress(f"http://localhost:{port}/{path.strip('/')}", "this machine only",
                           loopback_warning or "This laptop has no network address besides loopback: join the "
                           f"room's Wi-Fi, or set {PUBLIC_URL_ENV} to the address phones should open.")
    host = f"[{lan}]" if ":" in lan else lan
    return JoinAddress(f"http://{host}:{port}/{path.strip('/')}", "this laptop's LAN address", loopback_warning)


# ---------------------------------------------------------------- the QR code

def qr_code_png(text: str, box_size: int = 8) -> bytes:
    """A QR code of text (the join address) as PNG bytes, drawn with pillow."""
    import qrcode

    code = qrcode.QRCode(border=2, box_size=box_size, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the address phones in the room should open.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--path", default="fake-or-real")
    args = parser.parse_args()
    address = join_address(args.path, public_url=os.environ.get(PUBLIC_URL_ENV), port=args.port, lan=lan_ip())
    print(address.url)


if __name__ == "__main__":
    main()
