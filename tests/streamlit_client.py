"""A light Streamlit client: one browser tab as the server sees it, speaking Streamlit's own
websocket protocol (protobuf BackMsg / ForwardMsg) without a browser, for the class-load
benchmark and the tests that need many tabs or exact timing.

It does what the browser's app shell does with the server's messages, no more: it asks for a
page (a full run) and waits for its script_finished, keeps the widgets' values it sets and
sends them with every later request, and runs each `run_every` fragment's timer (the server's
auto_rerun message) as the browser does, sending the fragment's rerun on every tick, until a
full run or stop_auto_rerun clears it. It draws nothing and fetches no picture.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FULL_RUN_DONE = ForwardMsg.FINISHED_SUCCESSFULLY
FRAGMENT_RUN_DONE = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


@dataclass
class Run:
    """One full run of a page as this tab saw it."""

    seconds: float
    elements: list[Any] = field(default_factory=list)  # the Element protos its deltas carried

    def texts(self) -> str:
        return "\n".join(str(e) for e in self.elements)

    def widget(self, kind: str, label: str) -> Any:
        """The first widget of `kind` (slider, selectbox, ...) labelled `label`."""
        for e in self.elements:
            if e.WhichOneof("type") == kind and getattr(e, kind).label == label:
                return getattr(e, kind)
        raise LookupError(f"no {kind} labelled {label!r} in the page")


class Tab:
    """One open tab. Use as `async with Tab(url, cookies) as tab: run = await tab.open("runs")`."""

    def __init__(self, url: str, cookies: dict[str, str] | None = None, eager: bool = False) -> None:
        """`eager`: a fragment's first tick goes at once, while the page may still be running
        (as a browser's timer does when the server's loop is late with the page's tail)."""
        self.ws_url = url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.cookies = cookies or {}
        self.eager = eager
        self.widgets: dict[str, WidgetState] = {}
        self.page = ""
        self.ticks_sent = 0
        self.full_runs = 0  # full runs the server started, those it started by itself (st.rerun) included
        self._timers: dict[str, asyncio.Task] = {}
        # (status, when, full runs started by then) of each script_finished
        self._finished: asyncio.Queue[tuple[int, float, int]] = asyncio.Queue()
        self._elements: list[Any] = []
        self._ws: Any = None
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> Tab:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                            additional_headers={"Cookie": cookie} if cookie else None)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for timer in self._timers.values():
            timer.cancel()
        if self._reader:
            self._reader.cancel()
        await self._ws.close()

    async def open(self, page: str, query: str = "", timeout_s: float = 120) -> Run:
        """Ask for `page` (its URL path, "" for home) as a browser does on load or navigation."""
        self.page = page
        return await self._full_run(query, timeout_s)

    async def set_widget(self, widget: Any, value: Any, timeout_s: float = 120) -> Run:
        """Move a widget and wait for the page to be drawn again: a slider takes a list of
        numbers, a select slider a list of its option labels (as shown), a toggle a bool."""
        state = WidgetState(id=widget.id)
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            state.string_array_value.data.extend(value)
        elif isinstance(value, (list, tuple)):
            state.double_array_value.data.extend(value)
        elif isinstance(value, bool):
            state.bool_value = value
        elif isinstance(value, int):
            state.int_value = value
        elif isinstance(value, float):
            state.double_value = value
        else:
            state.string_value = value
        self.widgets[widget.id] = state
        return await self._full_run("", timeout_s)

    async def click(self, button: Any, timeout_s: float = 120) -> Run:
        """Click a button and wait for the page to be drawn again: its trigger goes with this
        request only, as the browser sends it (the widgets set before go along)."""
        trigger = WidgetState(id=button.id, trigger_value=True)
        return await self._full_run("", timeout_s, extra=[trigger])

    async def _full_run(self, query: str, timeout_s: float, extra: list[WidgetState] | None = None) -> Run:
        while not self._finished.empty():
            self._finished.get_nowait()
        self._elements = []
        start, before = time.perf_counter(), self.full_runs
        await self._send(query=query, extra=extra or [])
        while True:
            left = timeout_s - (time.perf_counter() - start)
            status, at, started = await asyncio.wait_for(self._finished.get(), left)
            # A full run the server had under way when we asked (an st.rerun of its own) may end
            # after the queue was emptied: only a run that started after the request is ours.
            if status == FULL_RUN_DONE and started > before:
                return Run(at - start, list(self._elements))

    async def _send(self, query: str = "", fragment_id: str = "", extra: list[WidgetState] | None = None) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = query
        state.page_name = self.page
        state.widget_states.widgets.extend([*self.widgets.values(), *(extra or [])])
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = True
        await self._ws.send(msg.SerializeToString())

    async def _tick(self, fragment_id: str, interval_s: float) -> None:
        wait = 0.0 if self.eager else interval_s
        while True:
            await asyncio.sleep(wait)
            wait = interval_s
            self.ticks_sent += 1
            await self._send(fragment_id=fragment_id)

    def _clear_timers(self, ids: list[str] | None = None) -> None:
        for fragment_id in list(self._timers) if ids is None else ids:
            timer = self._timers.pop(fragment_id, None)
            if timer:
                timer.cancel()

    async def _read(self) -> None:
        async for raw in self._ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session" and not msg.metadata.run.fragment_ids:
                self.full_runs += 1
                self._elements = []  # a full run's elements are those drawn since it started
                self._clear_timers()  # as the browser: a full run clears every timer
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._elements.append(msg.delta.new_element)
            elif kind == "auto_rerun":
                fragment_id, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                self._clear_timers([fragment_id])
                self._timers[fragment_id] = asyncio.create_task(self._tick(fragment_id, interval))
            elif kind == "stop_auto_rerun":
                self._clear_timers(list(msg.stop_auto_rerun.fragment_ids))
            elif kind == "script_finished":
                self._finished.put_nowait((msg.script_finished, time.perf_counter(), self.full_runs))

    @property
    def polling(self) -> int:
        """How many fragment timers this tab runs now."""
        return len(self._timers)
