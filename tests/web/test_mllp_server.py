"""MLLP listener and client (``ecmo_web.mllp``) over real TCP on 127.0.0.1, with an in-memory handler.

No database: the handler here records what it is given and builds the ACK with ``ecmo_core.hl7v2``.

Spec checklist:
- [x] a valid message: the handler is called once with the text, the ACK comes back (``send_message``)
- [x] two messages in one write: two handler calls and two ACKs, in order
- [x] a message split across many small writes: one handler call, one ACK
- [x] bytes before ``<VT>`` are discarded and logged; ``<FS>`` without ``<CR>`` is accepted
- [x] a connection dropped mid-message: the handler is never called, nothing is acknowledged
- [x] a frame above the size limit: AR with error 104, handler not called, the connection keeps working
- [x] the handler raises: AE (or CE in enhanced mode) with error 207, logged
- [x] a group handler (``submit``): futures resolved together each answer their own frame, in order
- [x] a slow handler: nothing is written until it returns, then the ACK
- [x] Latin-1 fallback when a frame is not UTF-8; the ACK uses the same codec
- [x] read timeout inside a frame and idle timeout between frames close the connection, nothing handled
- [x] shutdown lets a running handler finish and send its ACK; ``run_forever`` stops cleanly on SIGTERM
- [x] the client: ConnectionError when the peer closes first, TimeoutError when it never answers
- [x] the framer on its own: any read boundaries, a restarted frame, oversize then recovery
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from ecmo_core import hl7v2
from ecmo_web import mllp
from ecmo_web.mllp import Frame, Garbage, MLLPFramer, Oversize

VT, FS, CR = b"\x0b", b"\x1c", b"\r"
T = TypeVar("T")


def oru(control_id: str = "MSG0001", *, accept: str = "AL", obx_count: int = 1) -> str:
    segments = [
        f"MSH|^~\\&|ACME_ECLS^0A1B2C3D4E5F6071^EUI-64||ECMO_STEWARD||20250101120000+0000||ORU^R01^ORU_R01"
        f"|{control_id}|P|2.6|||{accept}|NE",
        "PV1||I|ICU^^BED07",
        "OBR|1|||182777000^monitoring of patient^SCT|||20250101120000+0000",
    ]
    segments += [
        f"OBX|{n}|NM|blood_flow_l_min^ECMO blood flow^99ECMO|1.1.1.1|4.2|L/min|||||R|||20250101115955+0000"
        for n in range(1, obx_count + 1)
    ]
    return "\r".join(segments) + "\r"


def frame(text: str, encoding: str = "utf-8") -> bytes:
    return VT + text.encode(encoding) + FS + CR


class RecordingHandler:
    """Records each message; optionally waits on a gate, sleeps or fails, like a slow or broken database."""

    def __init__(self, *, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.messages: list[str] = []
        self.started = threading.Event()
        self.finished_at: list[float] = []
        self.gate = gate
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, text: str) -> str:
        with self.lock:
            self.messages.append(text)
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail:
            raise RuntimeError("database is locked")
        ack = hl7v2.build_ack(text, code=hl7v2.ack_code(hl7v2.Outcome.ACCEPTED, text), now=datetime.now(UTC))
        self.finished_at.append(time.monotonic())
        return ack


@dataclass
class Running:
    port: int
    stop: Callable[[], None]


@contextmanager
def listening(handler: mllp.Handler, **options: float) -> Iterator[Running]:
    """Run ``mllp.serve`` on 127.0.0.1, port 0, in its own event loop and thread."""
    ports: queue.Queue[int] = queue.Queue()
    control: dict[str, object] = {}
    errors: list[BaseException] = []

    async def main() -> None:
        stop = asyncio.Event()
        control["loop"], control["stop"] = asyncio.get_running_loop(), stop
        await mllp.serve(
            handler, host="127.0.0.1", port=0, stop=stop, on_ready=lambda a: ports.put(a[0][1]), **options
        )

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def stop() -> None:
        loop, event = control["loop"], control["stop"]
        assert isinstance(loop, asyncio.AbstractEventLoop) and isinstance(event, asyncio.Event)
        with contextlib.suppress(RuntimeError):  # the loop has already finished
            loop.call_soon_threadsafe(event.set)

    try:
        yield Running(ports.get(timeout=5), stop)
    finally:
        stop()
        thread.join(10)
        assert not thread.is_alive()
        assert errors == []


def run_in_thread(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run`` in a fresh thread: another test (or plugin) may leave a loop running in this one."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(asyncio.run(coroutine()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(20)
    if errors:
        raise errors[0]
    return results[0]


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_acks(sock: socket.socket, count: int) -> list[str]:
    framer = MLLPFramer()
    acks: list[str] = []
    while len(acks) < count:
        data = sock.recv(65536)
        assert data, "connection closed before all acknowledgements arrived"
        acks += [mllp.decode_payload(e.payload)[0] for e in framer.feed(data) if isinstance(e, Frame)]
    return acks


def msa(ack: str) -> list[str]:
    return next(seg.split("|") for seg in ack.split("\r") if seg.startswith("MSA"))


def err(ack: str) -> list[str]:
    return next(seg.split("|") for seg in ack.split("\r") if seg.startswith("ERR"))


def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in r.getMessage() for r in caplog.records):
            return
        time.sleep(0.01)
    raise AssertionError(f"no log line containing {text!r}")


def assert_closed_by_server(sock: socket.socket) -> None:
    sock.settimeout(5)
    assert sock.recv(1024) == b""


# --- the listener -------------------------------------------------------------------------------------------


def test_it_hands_a_valid_message_to_the_handler_once_and_returns_its_ack() -> None:
    handler = RecordingHandler()
    with listening(handler) as server:
        ack = mllp.send_message("127.0.0.1", server.port, oru(), timeout=5)

    assert handler.messages == [oru()]
    assert msa(ack)[:3] == ["MSA", "CA", "MSG0001"]
    assert ack.startswith("MSH|^~\\&|ECMO_STEWARD||ACME_ECLS^0A1B2C3D4E5F6071^EUI-64|")


def test_it_answers_two_messages_in_one_write_in_order() -> None:
    handler = RecordingHandler()
    with listening(handler) as server, connect(server.port) as sock:
        sock.sendall(frame(oru("MSG0001")) + frame(oru("MSG0002")))
        acks = read_acks(sock, 2)

    assert handler.messages == [oru("MSG0001"), oru("MSG0002")]
    assert [msa(a)[2] for a in acks] == ["MSG0001", "MSG0002"]


def test_it_reassembles_a_message_split_across_many_small_writes() -> None:
    handler = RecordingHandler()
    data = frame(oru(obx_count=5))
    with listening(handler) as server, connect(server.port) as sock:
        for i in range(0, len(data), 7):
            sock.sendall(data[i : i + 7])
            time.sleep(0.001)
        acks = read_acks(sock, 1)
        sock.sendall(frame(oru("MSG0002")))  # the same connection carries on
        acks += read_acks(sock, 1)

    assert handler.messages == [oru(obx_count=5), oru("MSG0002")]
    assert [msa(a)[2] for a in acks] == ["MSG0001", "MSG0002"]


def test_it_discards_and_logs_bytes_before_the_start_block(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ecmo.mllp")
    handler = RecordingHandler()
    with listening(handler) as server, connect(server.port) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n" + VT + oru().encode() + FS)  # and no <CR> after <FS>
        acks = read_acks(sock, 1)
        sock.sendall(CR + frame(oru("MSG0002")))  # the late <CR> is not garbage
        acks += read_acks(sock, 1)

    assert handler.messages == [oru(), oru("MSG0002")]
    assert [msa(a)[1] for a in acks] == ["CA", "CA"]
    garbage_lines = [r.getMessage() for r in caplog.records if "outside a frame" in r.getMessage()]
    assert len(garbage_lines) == 1 and "18 bytes" in garbage_lines[0]


def test_it_discards_a_frame_when_the_connection_drops_mid_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ecmo.mllp")
    handler = RecordingHandler()
    with listening(handler) as server:
        with connect(server.port) as sock:
            sock.sendall(VT + oru().encode()[:150])
        wait_for_log(caplog, "closed mid-message; 150 bytes discarded")
        ack = mllp.send_message("127.0.0.1", server.port, oru("MSG0002"), timeout=5)

    assert handler.messages == [oru("MSG0002")]
    assert msa(ack)[2] == "MSG0002"


def test_it_rejects_an_oversize_frame_without_calling_the_handler_and_keeps_the_connection() -> None:
    handler = RecordingHandler()
    big = oru("BIG0001", accept="", obx_count=100)
    assert len(big.encode()) > 4000
    with listening(handler, max_message_bytes=4000) as server, connect(server.port) as sock:
        sock.sendall(frame(big) + frame(oru("MSG0002")))
        acks = read_acks(sock, 2)

    assert handler.messages == [oru("MSG0002")]
    assert msa(acks[0])[:3] == ["MSA", "AR", "BIG0001"]
    assert err(acks[0])[3] == "104^Value too long^HL70357"
    assert msa(acks[1])[:3] == ["MSA", "CA", "MSG0002"]


def test_it_replies_with_error_207_when_the_handler_raises(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ecmo.mllp")
    handler = RecordingHandler(fail=True)
    with listening(handler) as server:
        original = mllp.send_message("127.0.0.1", server.port, oru(accept=""), timeout=5)
        enhanced = mllp.send_message("127.0.0.1", server.port, oru("MSG0002"), timeout=5)

    assert msa(original)[:3] == ["MSA", "AE", "MSG0001"]
    assert msa(enhanced)[:3] == ["MSA", "CE", "MSG0002"]
    assert err(original)[3:5] == ["207^Application internal error^HL70357", "E"]
    failures = [r for r in caplog.records if "handler failed for message MSG0001" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None


def test_it_treats_a_handler_that_returns_no_ack_as_failed() -> None:
    with listening(lambda text: "") as server:
        ack = mllp.send_message("127.0.0.1", server.port, oru(), timeout=5)

    assert msa(ack)[1] == "CE"
    assert err(ack)[3].startswith("207^")


def test_it_writes_the_ack_only_after_a_slow_handler_has_returned() -> None:
    gate = threading.Event()
    handler = RecordingHandler(gate=gate)
    with listening(handler) as server, connect(server.port) as sock:
        sock.sendall(frame(oru()))
        assert handler.started.wait(5)
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(1024)  # the handler is still "committing": nothing may be acknowledged yet
        sock.settimeout(5)
        gate.set()
        acks = read_acks(sock, 1)
        received_at = time.monotonic()

    assert msa(acks[0])[1] == "CA"
    assert handler.finished_at and handler.finished_at[0] <= received_at


class BatchingHandler:
    """A group handler (``submit`` → future), like the group-committing ``Ingestor``: a worker thread takes the
    messages that have arrived and resolves their futures together; a message whose id ends in "X" fails."""

    def __init__(self, group: int) -> None:
        self.group = group
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.groups: list[list[str]] = []
        threading.Thread(target=self._work, daemon=True).start()

    def submit(self, text: str, peer: str = "") -> Any:
        from concurrent.futures import Future

        future: Future[str] = Future()
        self.queue.put((text, future))
        return future

    def __call__(self, text: str) -> str:
        return str(self.submit(text).result())

    def _work(self) -> None:
        while True:
            batch = [self.queue.get()]
            deadline = time.monotonic() + 1
            while len(batch) < self.group and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    batch.append(self.queue.get(timeout=0.05))
            self.groups.append([hl7v2.read_header(text).control_id for text, _ in batch])
            for text, future in batch:  # resolved one after another, from this thread
                if hl7v2.read_header(text).control_id.endswith("X"):
                    future.set_exception(RuntimeError("could not be stored"))
                else:
                    code = hl7v2.ack_code(hl7v2.Outcome.ACCEPTED, text)
                    future.set_result(hl7v2.build_ack(text, code=code, now=datetime.now(UTC)))


def test_it_answers_each_message_of_a_group_handler_with_its_own_result_in_order() -> None:
    """Futures resolved together by a group handler's thread reach the event loop in batches: every frame still
    gets its own ACK, in order on its connection, and a failed one gets 207."""
    handler = BatchingHandler(group=2)  # a connection's next frame waits for its ACK: one from each at a time
    with listening(handler) as server:
        a, b = connect(server.port), connect(server.port)
        with a, b:
            a.sendall(frame(oru("A1")) + frame(oru("A2X")))
            b.sendall(frame(oru("B1")) + frame(oru("B2")))
            acks_a, acks_b = read_acks(a, 2), read_acks(b, 2)
    assert [msa(x)[1:3] for x in acks_a] == [["CA", "A1"], ["CE", "A2X"]]
    assert err(acks_a[1])[3].startswith("207")
    assert [msa(x)[1:3] for x in acks_b] == [["CA", "B1"], ["CA", "B2"]]
    assert sum(len(g) for g in handler.groups) == 4


def test_it_falls_back_to_latin1_and_answers_in_the_same_codec() -> None:
    handler = RecordingHandler()
    text = oru("MSGé1")
    with listening(handler) as server, connect(server.port) as sock:
        sock.sendall(frame(text, "latin-1"))
        sock.settimeout(5)
        raw = sock.recv(65536)

    assert handler.messages == [text]
    assert b"|MSG\xe91" in raw  # Latin-1 bytes, not UTF-8


def test_it_closes_a_connection_silent_inside_a_frame_without_handling_it() -> None:
    handler = RecordingHandler()
    with listening(handler, read_timeout_s=0.2) as server, connect(server.port) as sock:
        sock.sendall(VT + b"MSH|^~\\&|partial")
        assert_closed_by_server(sock)

    assert handler.messages == []


def test_it_closes_an_idle_connection() -> None:
    with listening(RecordingHandler(), idle_timeout_s=0.2) as server, connect(server.port) as sock:
        assert_closed_by_server(sock)


def test_it_lets_a_running_handler_finish_and_acknowledge_during_shutdown() -> None:
    gate = threading.Event()
    handler = RecordingHandler(gate=gate)
    with listening(handler) as server, connect(server.port) as idle, connect(server.port) as sock:
        sock.sendall(frame(oru()))
        assert handler.started.wait(5)
        server.stop()
        assert_closed_by_server(idle)  # idle connections close at once
        gate.set()
        acks = read_acks(sock, 1)
        assert_closed_by_server(sock)

    assert msa(acks[0])[:3] == ["MSA", "CA", "MSG0001"]


def test_it_returns_a_plain_asyncio_server_from_start_server() -> None:
    handler = RecordingHandler()

    async def scenario() -> str:
        server = await mllp.start_server(handler, host="127.0.0.1", port=0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await asyncio.to_thread(mllp.send_message, "127.0.0.1", port, oru(), 5)
        finally:
            server.close()
            await server.wait_closed()

    ack = run_in_thread(scenario)

    assert msa(ack)[:3] == ["MSA", "CA", "MSG0001"]


def test_it_refuses_nonsense_limits() -> None:
    async def scenario() -> asyncio.Server:
        return await mllp.start_server(RecordingHandler(), host="127.0.0.1", port=0, read_timeout_s=0)

    with pytest.raises(ValueError, match="positive"):
        run_in_thread(scenario)


def test_it_stops_cleanly_on_sigterm() -> None:
    program = textwrap.dedent(
        """
        from datetime import UTC, datetime
        from ecmo_core import hl7v2
        from ecmo_web import mllp

        def handler(text):
            return hl7v2.build_ack(text, code=hl7v2.ack_code("accepted", text), now=datetime.now(UTC))

        mllp.run_forever(handler, host="127.0.0.1", port=0, on_ready=lambda a: print(a[0][1], flush=True))
        print("stopped", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        ack = mllp.send_message("127.0.0.1", port, oru(), timeout=5)
        proc.send_signal(signal.SIGTERM)
        out, errors = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert msa(ack)[1] == "CA"
    assert (proc.returncode, out.strip(), errors) == (0, "stopped", "")


# --- the client ---------------------------------------------------------------------------------------------


@contextmanager
def raw_peer(behaviour: Callable[[socket.socket], None]) -> Iterator[int]:
    """A bare TCP peer that accepts one connection and does ``behaviour`` with it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)

        def run() -> None:
            conn, _ = listener.accept()
            with conn:
                behaviour(conn)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        yield listener.getsockname()[1]
        thread.join(5)


def test_it_raises_connection_error_when_the_peer_closes_before_the_ack() -> None:
    def half_ack_then_close(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"junk" + VT + b"MSH|^~\\&|partial")

    with raw_peer(half_ack_then_close) as port, pytest.raises(ConnectionError):
        mllp.send_message("127.0.0.1", port, oru(), timeout=5)


def test_it_raises_timeout_error_when_the_peer_never_answers() -> None:
    done = threading.Event()

    with raw_peer(lambda conn: done.wait(5)) as port, pytest.raises(TimeoutError):
        try:
            mllp.send_message("127.0.0.1", port, oru(), timeout=0.3)
        finally:
            done.set()


def test_it_refuses_an_ack_larger_than_the_client_limit() -> None:
    def big_ack(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(VT + b"x" * 200 + FS + CR)

    with raw_peer(big_ack) as port, pytest.raises(ValueError, match="larger than 100 bytes"):
        mllp.send_message("127.0.0.1", port, oru(), timeout=5, max_ack_bytes=100)


# --- the framer ---------------------------------------------------------------------------------------------


def test_it_frames_the_same_whatever_the_read_boundaries() -> None:
    stream = b"noise" + frame("A" * 10) + VT + b"B" * 5 + FS + frame("C")
    expected = [Garbage(5), Frame(b"A" * 10), Frame(b"B" * 5), Frame(b"C")]

    for size in (1, 2, 3, 7, len(stream)):
        framer = MLLPFramer()
        events = [e for i in range(0, len(stream), size) for e in framer.feed(stream[i : i + size])]
        merged_garbage = sum(e.count for e in events if isinstance(e, Garbage))
        assert [e for e in events if not isinstance(e, Garbage)] == expected[1:]
        assert merged_garbage == 5
        assert not framer.in_frame


def test_it_drops_an_unfinished_frame_when_a_new_one_starts() -> None:
    framer = MLLPFramer()

    assert framer.feed(VT + b"half") == []
    assert framer.in_frame and framer.pending_bytes == 4
    assert framer.feed(b"-more" + VT + b"whole" + FS + CR) == [Garbage(9), Frame(b"whole")]


def test_it_reports_an_oversize_frame_once_and_recovers_at_its_end() -> None:
    framer = MLLPFramer(max_message_bytes=10)

    events = framer.feed(VT + b"MSH|" + b"x" * 20)
    events += framer.feed(b"y" * 50)
    events += framer.feed(FS + CR + frame("ok"))

    assert events == [Oversize(b"MSH|" + b"x" * 20), Frame(b"ok")]
    with pytest.raises(ValueError, match="at least 1"):
        MLLPFramer(0)


def test_it_decodes_utf8_first_and_latin1_otherwise() -> None:
    assert mllp.decode_payload("é".encode()) == ("é", "utf-8")
    assert mllp.decode_payload("é".encode("latin-1")) == ("é", "latin-1")
