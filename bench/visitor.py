"""A browser tab without the drawing: a Streamlit websocket client that speaks the browser's protocol.

It loads the page over HTTP first and keeps the cookies (behind scripts/serve.sh, HAProxy's sticky
cookie), opens /_stcore/stream, and sends what a browser sends (protobuf BackMsg): a page to run, the
widgets' values, the clicked widget, the st.fragment to rerun when the widget is inside one, and the
timed reruns a fragment with run_every asks for, and what a room phone's watcher does (``follow_room``).
It reads the ForwardMsg stream until the run ends and keeps the page as the browser would show it.
bench/load.py, bench/room_load.py and tests/test_serve.py drive it.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

from app.ui.serve import WORKER_COOKIE


class VisitError(Exception):
    """Something a visitor saw that a visitor should never see."""


class ConnectionLost(Exception):
    """The websocket closed under the visitor: its worker died (a browser then reconnects)."""


# ---------------------------------------------------------------- one visitor's connection


@dataclass
class ScriptRun:
    """The page after one script run (a whole page, or a fragment redrawn in it): its elements in page
    order, which fragment drew each widget, and how long the run took."""

    seconds: float
    elements: list[Element]
    fragments: dict[str, str] = field(default_factory=dict)  # widget id -> id of the fragment it is in

    def of_kind(self, kind: str) -> list:
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    def alerts(self) -> list[str]:
        return [alert.body for alert in self.of_kind("alert")]

    def widget_id(self, key: str) -> str | None:
        """Streamlit ids of keyed widgets end with the key."""
        for element in self.elements:
            widget = getattr(element, element.WhichOneof("type") or "", None)
            widget_id = getattr(widget, "id", "")
            if isinstance(widget_id, str) and widget_id.endswith(f"-{key}"):
                return widget_id
        return None

    def table_rows(self) -> list[int]:
        """Row counts of the st.dataframe tables (Arrow IPC streams)."""
        import pyarrow as pa

        return [pa.ipc.open_stream(frame.arrow_data.data).read_all().num_rows for frame in self.of_kind("dataframe")
                if frame.arrow_data.data]


COOKIE_ATTRIBUTES = {"path", "domain", "expires", "max-age", "samesite", "secure", "httponly"}


def cookies_from(headers: list[str]) -> dict[str, str]:
    """name -> value of Set-Cookie headers (websocket-client joins several into one with "; ")."""
    found = {}
    for header in headers:
        for part in header.split(";"):
            name, _, value = part.partition("=")
            if name.strip() and name.strip().lower() not in COOKIE_ATTRIBUTES:
                found[name.strip()] = value.strip()
    return found


class Visitor:
    """One browser tab: a websocket session that reruns the script with the widget values it sets.

    Like a browser it loads the page over HTTP first and keeps the cookies it gets (behind
    scripts/serve.sh, HAProxy's cookie names the worker the tab stays on); a reconnecting tab sends
    the cookies it has."""

    def __init__(self, base_url: str, timeout: float = 300, cookies: dict[str, str] | None = None):
        import websocket

        self.base_url, self.timeout = base_url, timeout
        self._http: http.client.HTTPConnection | None = None  # for the room feed
        if cookies is None:
            with urllib.request.urlopen(base_url + "/", timeout=timeout) as response:
                cookies = cookies_from(response.headers.get_all("Set-Cookie") or [])
        self.cookies = dict(cookies)
        self.socket = websocket.create_connection(
            base_url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], timeout=timeout,
            cookie="; ".join(f"{name}={value}" for name, value in self.cookies.items()) or None)
        handshake = self.socket.getheaders() or {}
        self.cookies.update(cookies_from([handshake["set-cookie"]] if "set-cookie" in handshake else []))
        self.page_script_hash = ""
        self.query = ""  # the address's query string (?room=…&player=…), sent with every run as a browser does
        self.values: dict[str, WidgetState] = {}  # what the tab's widgets hold, sent with every run
        self.page: dict[tuple, tuple[Element, str]] = {}  # place on the page -> (element, its fragment id)
        self.last: ScriptRun | None = None
        self.auto_reruns: dict[str, float] = {}  # fragment id -> seconds between the reruns it asks for
        self.next_auto_rerun: dict[str, float] = {}
        self.auto_seconds: list[float] = []  # how long those runs took
        self.room_moved_at = 0.0  # when the room feed last said the page is out of date (time.monotonic())

    @property
    def worker(self) -> str | None:
        """The worker HAProxy keeps this tab on (None without a proxy)."""
        return self.cookies.get(WORKER_COOKIE)

    def open(self, url_path: str, query: str = "") -> ScriptRun:
        self.page_script_hash, self.values, self.auto_reruns, self.query = "", {}, {}, query
        return self.rerun(page_name=url_path)

    def type(self, key: str, text: str, then_click: str | None = None) -> ScriptRun:
        state = WidgetState(id=self.require_widget(key), string_value=text)
        self.values[state.id] = state
        return self.rerun(triggers=[then_click] if then_click else [], fragment_of=then_click or key)

    def click(self, key: str) -> ScriptRun:
        return self.rerun(triggers=[key], fragment_of=key)

    def due_auto_reruns(self) -> list[ScriptRun]:
        """What the browser's timers would have rerun by now (a fragment with run_every, say the board)."""
        runs = []
        for fragment_id, interval in list(self.auto_reruns.items()):
            if time.monotonic() >= self.next_auto_rerun.get(fragment_id, 0):
                self.next_auto_rerun[fragment_id] = time.monotonic() + interval
                runs.append(self.rerun(fragment_id=fragment_id, auto=True))
        return runs

    def follow_room(self) -> ScriptRun | None:
        """What a room phone's browser does all along (WATCH_JS in app/ui/room.py): ask the room feed
        whether the page is out of date, which answers when the room moves on (or after 20 s), and then
        rerun the watcher's fragment. None at once when the page has no watcher, or the room has not moved."""
        for element, fragment_id in self.page.values():
            if element.WhichOneof("type") != "bidi_component" or "room_watch" not in element.bidi_component.component_name:
                continue
            data = json.loads(element.bidi_component.json)
            status, body = self.get(f"{data['feed']}?{urllib.parse.urlencode({'drawn_for': data['drawn_for']})}")
            now = json.loads(body).get("drawn_for") if status == 200 else f"no feed ({status})"
            if now == data["drawn_for"]:
                return None
            self.room_moved_at = time.monotonic()
            events = WidgetState(id=f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{element.bidi_component.id}__events",
                                 json_trigger_value=json.dumps([{"event": "changed", "value": now}]))
            return self.rerun(extra=[events], fragment_id=fragment_id)
        return None

    def get(self, path: str) -> tuple[int, bytes]:
        """An HTTP GET on one kept-alive connection, as a browser makes its small requests."""
        try:
            return self._get(path)
        except (OSError, http.client.HTTPException):
            self._http = None  # the proxy closed an idle connection: open another, once
            return self._get(path)

    def _get(self, path: str) -> tuple[int, bytes]:
        if self._http is None:
            address = urllib.parse.urlsplit(self.base_url)
            self._http = http.client.HTTPConnection(address.hostname, address.port, timeout=self.timeout)
            self._http.connect()
            self._http.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._http.request("GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())})
        answer = self._http.getresponse()
        return answer.status, answer.read()

    def require_widget(self, key: str) -> str:
        widget_id = self.last.widget_id(key) if self.last else None
        if widget_id is None:
            raise VisitError(f"no widget {key!r} on the page")
        return widget_id

    def rerun(self, page_name: str = "", triggers: list[str] = (), fragment_of: str | None = None,
              fragment_id: str = "", auto: bool = False, extra: list[WidgetState] = ()) -> ScriptRun:
        """Send what the browser sends for a run: the whole page's widget values, the clicked ones, and
        (for a widget inside an st.fragment) the fragment to rerun instead of the page."""
        if not auto:  # the browser's timers fired while the visitor read the page
            self.auto_seconds += [run.seconds for run in self.due_auto_reruns()]
        message = BackMsg()
        client = message.rerun_script
        client.page_script_hash, client.page_name = self.page_script_hash, page_name
        client.query_string = self.query
        client.widget_states.widgets.extend(self.values.values())
        for key in triggers:
            client.widget_states.widgets.append(WidgetState(id=self.require_widget(key), trigger_value=True))
        client.widget_states.widgets.extend(extra)
        if fragment_of and self.last:
            fragment_id = self.last.fragments.get(self.require_widget(fragment_of), "")
        client.fragment_id, client.is_auto_rerun = fragment_id, auto
        started = time.perf_counter()
        try:
            self.socket.send_binary(message.SerializeToString())
            elements = self.receive_run(fragment_id)
        except (OSError, ConnectionError) as error:
            raise ConnectionLost(str(error)) from error
        except Exception as error:
            if type(error).__name__.startswith("WebSocketConnectionClosed"):
                raise ConnectionLost(str(error)) from error
            raise
        self.page = elements
        widgets = {}
        for element, in_fragment in elements.values():
            widget = getattr(element, element.WhichOneof("type") or "", None)
            if isinstance(getattr(widget, "id", None), str) and in_fragment:
                widgets[widget.id] = in_fragment
        self.last = ScriptRun(time.perf_counter() - started, [elements[path][0] for path in sorted(elements)], widgets)
        if exceptions := self.last.of_kind("exception"):
            raise VisitError(f"exception box: {exceptions[0].type}: {exceptions[0].message}")
        return self.last

    def receive_run(self, fragment_id: str) -> dict[tuple, tuple[Element, str]]:
        """Forward messages until the script run finishes: the page as the browser then shows it (a
        fragment's run replaces that fragment's elements and keeps the rest of the page)."""
        def start() -> dict[tuple, tuple[Element, str]]:
            return {path: kept for path, kept in self.page.items() if fragment_id and kept[1] != fragment_id}

        elements = start()
        timers: dict[str, float] = {}  # the fragments with run_every that this run called
        while True:
            data = self.socket.recv()
            if not data:
                raise ConnectionLost("the server closed the websocket")
            message = ForwardMsg()
            message.ParseFromString(data)
            kind = message.WhichOneof("type")
            if kind == "navigation":
                self.page_script_hash = message.navigation.page_script_hash
            elif kind == "page_not_found":
                raise VisitError(f"page not found: {message.page_not_found.page_name!r}")
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                elements[tuple(message.metadata.delta_path)] = (message.delta.new_element, message.delta.fragment_id)
            elif kind == "auto_rerun":
                timers[message.auto_rerun.fragment_id] = message.auto_rerun.interval
                self.auto_reruns[message.auto_rerun.fragment_id] = message.auto_rerun.interval
                self.next_auto_rerun.setdefault(message.auto_rerun.fragment_id,
                                                time.monotonic() + message.auto_rerun.interval)
            elif kind == "script_finished":
                status = message.script_finished
                if status == ForwardMsg.FINISHED_SUCCESSFULLY:  # a whole run: the browser keeps the timers
                    self.auto_reruns = timers  # of the fragments it called (one that drew nothing too), no others
                    return elements
                if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                    return elements
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise VisitError("script compile error")
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    elements, timers = start(), {}  # st.rerun or a newer request: the next run redraws the page

    def close(self) -> None:
        self.socket.close()
        if self._http is not None:
            self._http.close()
