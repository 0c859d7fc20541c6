"""MLLP listener and client for HL7 v2 device messages (``ecmo mllp-listen``, ``ecmo mllp-send``).

Deliberately free of Django so that it can be run and tested on its own: the caller passes a blocking
``handler(message_text) -> ack_text`` that parses, commits and builds the ACK (see ``docs/hl7-mllp.md``).

Framing is ``<VT> message <FS><CR>`` (0x0B … 0x1C 0x0D). The listener:

- buffers across TCP reads, so a frame may arrive in many pieces and one read may hold several frames;
- answers frames of one connection strictly in order, one ACK per frame, and writes each ACK only after the
  handler has returned (the handler commits before it returns, so an ACK means "stored");
- discards and logs bytes outside a frame (before ``<VT>``), accepts ``<FS>`` without the ``<CR>``;
- replies AR/CR (error 104) to a frame larger than ``max_message_bytes`` (default 1 MiB) without calling the
  handler, then skips the rest of that frame and keeps the connection;
- closes a connection silent for ``idle_timeout_s`` between frames or ``read_timeout_s`` inside a frame;
- discards a partial frame when the connection drops or times out: nothing is handled, nothing acknowledged,
  so the sender resends it;
- decodes a frame as UTF-8 and falls back to Latin-1 when it is not valid UTF-8 (Latin-1 cannot fail; MSH-18
  is not consulted), and encodes the ACK with the same codec;
- replies AE/CE with error 207 when the handler raises (the error is logged, the message may be resent).

Raw frames are PHI: only sizes, peers and control ids are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ecmo_core import hl7v2

__all__ = [
    "DEFAULT_IDLE_TIMEOUT_S",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_READ_TIMEOUT_S",
    "Frame",
    "Garbage",
    "GroupHandler",
    "Handler",
    "MLLPFramer",
    "Oversize",
    "current_peer",
    "decode_payload",
    "run_forever",
    "send_message",
    "serve",
    "start_server",
]

logger = logging.getLogger("ecmo.mllp")

START_BLOCK: bytes = b"\x0b"
END_BLOCK: bytes = b"\x1c"
CARRIAGE_RETURN: bytes = b"\r"

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024  # a minute of PCD-01 numerics is a few kB; 1 MiB is ample
DEFAULT_READ_TIMEOUT_S = 30.0  # inside a partial frame (DD §4: shorter than the idle limit)
DEFAULT_IDLE_TIMEOUT_S = 120.0  # between frames (DD §4, e.g. 120 s)
_READ_SIZE = 64 * 1024
_OVERSIZE_HEAD_BYTES = 8 * 1024  # enough of an oversize frame to read its MSH for the AR

DEFAULT_HANDLER_THREADS = 64  # handlers mostly wait (for a group commit): many threads, little CPU each

Handler = Callable[[str], str]


class GroupHandler(Protocol):
    """A handler that queues messages itself (e.g. for group commit): ``submit(text, peer)`` returns at once with
    a future that resolves to the ACK once the message is stored. The listener then awaits that future on its event
    loop instead of occupying a thread per message; a plain :data:`Handler` runs on a thread pool."""

    def submit(self, text: str, peer: str = "") -> Future[str]: ...

    def __call__(self, text: str) -> str: ...


# The peer ("host:port") of the connection whose message a handler is processing: set around each handler call
# (thread pools copy the context), so a handler can log who sent a message without changing its signature.
_peer: contextvars.ContextVar[str] = contextvars.ContextVar("mllp_peer", default="")


def current_peer() -> str:
    """Inside a handler: the sending connection's address ("host:port"); elsewhere ""."""
    return _peer.get()


@dataclass(frozen=True)
class Frame:
    """A complete message (without the framing bytes)."""

    payload: bytes


@dataclass(frozen=True)
class Oversize:
    """A frame that grew past the size limit; ``head`` is its beginning (for the MSH of the reply)."""

    head: bytes


@dataclass(frozen=True)
class Garbage:
    """``count`` bytes outside a frame, or an unfinished frame abandoned for a new ``<VT>``, were dropped."""

    count: int


class MLLPFramer:
    """Incremental MLLP decoder: feed it whatever TCP delivers, get complete frames back in order."""

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        if max_message_bytes < 1:
            raise ValueError("max_message_bytes must be at least 1")
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._state = "outside"  # outside a frame | inside a frame | discarding the rest of an oversize frame
        self._skip_cr = False

    @property
    def in_frame(self) -> bool:
        """True while a frame has started and not ended (a drop now would lose it)."""
        return self._state != "outside"

    @property
    def pending_bytes(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame | Oversize | Garbage]:
        events: list[Frame | Oversize | Garbage] = []
        i, n = 0, len(data)
        garbage = 0
        while i < n:
            if self._state == "outside":
                if self._skip_cr and data[i] == CARRIAGE_RETURN[0]:
                    i += 1  # the <CR> after <FS>, possibly split into the next read
                self._skip_cr = False
                start = data.find(START_BLOCK, i)
                garbage += (n if start == -1 else start) - i
                if start == -1:
                    break
                self._state, i = "inside", start + 1
            elif self._state == "inside":
                end = data.find(END_BLOCK, i)
                stop = n if end == -1 else end
                restart = data.rfind(START_BLOCK, i, stop)
                if restart != -1:  # a new <VT> before <FS>: the sender gave up on the unfinished frame
                    garbage += len(self._buffer) + restart - i
                    self._buffer.clear()
                    i = restart + 1
                chunk = data[i:stop]
                if len(self._buffer) + len(chunk) > self.max_message_bytes:
                    head = bytes(self._buffer[:_OVERSIZE_HEAD_BYTES]) + chunk[:_OVERSIZE_HEAD_BYTES]
                    events.append(Oversize(head[:_OVERSIZE_HEAD_BYTES]))
                    self._buffer.clear()
                    self._state, i = "discarding", i  # the rest of the frame is skipped below
                    continue
                self._buffer += chunk
                if end == -1:
                    break
                events.append(Frame(bytes(self._buffer)))
                self._buffer.clear()
                self._state, self._skip_cr, i = "outside", True, end + 1
            else:  # discarding
                end = data.find(END_BLOCK, i)
                if end == -1:
                    break
                self._state, self._skip_cr, i = "outside", True, end + 1
        if garbage:
            # Report dropped bytes before the frames that followed them; order among frames is kept.
            events.insert(0, Garbage(garbage))
        return events


def decode_payload(payload: bytes) -> tuple[str, str]:
    """Return the text and codec: UTF-8 when valid, else Latin-1 (which decodes any byte sequence)."""
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return payload.decode("latin-1"), "latin-1"


def _frame(text: str, encoding: str = "utf-8") -> bytes:
    return START_BLOCK + text.encode(encoding, errors="replace") + END_BLOCK + CARRIAGE_RETURN


@dataclass(frozen=True)
class _Config:
    max_message_bytes: int
    read_timeout_s: float
    idle_timeout_s: float


class _Listener:
    """Per-server state: the handler, limits, and the live connections (for a clean shutdown)."""

    def __init__(self, handler: Handler, config: _Config, executor: ThreadPoolExecutor | None = None) -> None:
        self.handler = handler
        self.config = config
        self.executor = executor
        self.connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self.busy: set[asyncio.Task[Any]] = set()
        self.stopping = False
        # ACKs resolved by a group handler's thread, handed to the event loop in batches (see _awaitable).
        self._done: deque[tuple[asyncio.Future[str], Future[str]]] = deque()
        self._draining = False
        self._lock = threading.Lock()

    def _awaitable(self, future: Future[str]) -> asyncio.Future[str]:
        """An asyncio future for a group handler's ``future``. ``asyncio.wrap_future`` wakes the event loop once per
        future; a group commit resolves its futures together, so their results are queued here and handed over in
        one wake-up (fewer self-pipe writes and fewer switches of the interpreter lock on the ACK path)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[str] = loop.create_future()

        def done(_: Future[str]) -> None:  # runs in the handler's thread
            with self._lock:
                self._done.append((waiter, future))
                if self._draining:
                    return
                self._draining = True
            loop.call_soon_threadsafe(self._drain)

        future.add_done_callback(done)
        return waiter

    def _drain(self) -> None:
        with self._lock:
            ready, self._draining = list(self._done), False
            self._done.clear()
        for waiter, future in ready:
            if waiter.cancelled():
                continue
            if future.cancelled():
                waiter.cancel()
                continue
            exc = future.exception()
            if exc is not None:
                waiter.set_exception(exc)
            else:
                waiter.set_result(future.result())

    async def on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections[task] = writer
        peer = writer.get_extra_info("peername")
        framer = MLLPFramer(self.config.max_message_bytes)
        logger.info("MLLP connection from %s", peer)
        try:
            while not self.stopping:
                in_frame = framer.in_frame
                timeout = self.config.read_timeout_s if in_frame else self.config.idle_timeout_s
                try:
                    data = await asyncio.wait_for(reader.read(_READ_SIZE), timeout)
                except TimeoutError:
                    if in_frame:
                        logger.warning(
                            "MLLP %s: silent for %.0f s inside a frame; %d bytes discarded, not acknowledged",
                            peer,
                            timeout,
                            framer.pending_bytes,
                        )
                    else:
                        logger.info("MLLP %s: idle for %.0f s; closing", peer, timeout)
                    break
                if not data:
                    if framer.in_frame:
                        logger.warning(
                            "MLLP %s: connection closed mid-message; %d bytes discarded, nothing handled or "
                            "acknowledged",
                            peer,
                            framer.pending_bytes,
                        )
                    break
                for event in framer.feed(data):
                    await self._on_event(event, writer, peer, task)
        except ConnectionError as exc:
            logger.info("MLLP %s: connection lost (%s)", peer, exc)
        finally:
            writer.close()
            try:
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()
                logger.info("MLLP %s: closed", peer)
            finally:
                # Deregister last, so that shutdown waits for the close instead of leaving a task behind.
                self.connections.pop(task, None)

    async def _on_event(
        self,
        event: Frame | Oversize | Garbage,
        writer: asyncio.StreamWriter,
        peer: object,
        task: asyncio.Task[Any],
    ) -> None:
        if isinstance(event, Garbage):
            logger.warning("MLLP %s: %d bytes outside a frame discarded", peer, event.count)
            return
        if isinstance(event, Oversize):
            text, encoding = decode_payload(event.head)
            limit = self.config.max_message_bytes
            logger.warning(
                "MLLP %s: frame larger than %d bytes rejected (%s)",
                peer,
                limit,
                hl7v2.read_header(text).control_id or "no control id",
            )
            error = hl7v2.HL7Error(
                104, f"message larger than {limit} bytes; not processed", "MSH", rejected=True
            )
            ack = hl7v2.build_ack(
                text, code=hl7v2.ack_code(error.outcome, text), error=error, now=datetime.now(UTC)
            )
        else:
            self.busy.add(task)
            try:
                text, encoding = decode_payload(event.payload)
                ack = await self._handle(text, peer)
            finally:
                self.busy.discard(task)
        writer.write(_frame(ack, encoding))
        await writer.drain()

    async def _handle(self, text: str, peer: object) -> str:
        try:
            context = contextvars.copy_context()
            context.run(_peer.set, _describe(peer))
            submit = getattr(self.handler, "submit", None)
            if submit is not None:
                ack = await self._awaitable(submit(text, _describe(peer)))
            else:
                loop = asyncio.get_running_loop()
                ack = await loop.run_in_executor(self.executor, context.run, self.handler, text)
            if not isinstance(ack, str) or not ack.startswith("MSH"):
                raise TypeError(f"the handler returned {type(ack).__name__}, not an ACK message")
            return ack
        except Exception:
            control_id = hl7v2.read_header(text).control_id or "no control id"
            logger.exception(
                "MLLP %s: handler failed for message %s; replying with error 207", peer, control_id
            )
            error = hl7v2.HL7Error(207, "the message could not be stored; it may be sent again")
            return hl7v2.build_ack(
                text, code=hl7v2.ack_code(error.outcome, text), error=error, now=datetime.now(UTC)
            )


def _describe(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")


async def _open(
    handler: Handler,
    *,
    host: str,
    port: int,
    max_message_bytes: int,
    read_timeout_s: float,
    idle_timeout_s: float,
    executor: ThreadPoolExecutor | None = None,
    reuse_port: bool = False,
) -> tuple[asyncio.Server, _Listener]:
    if max_message_bytes < 1 or read_timeout_s <= 0 or idle_timeout_s <= 0:
        raise ValueError("max_message_bytes, read_timeout_s and idle_timeout_s must be positive")
    listener = _Listener(handler, _Config(max_message_bytes, read_timeout_s, idle_timeout_s), executor)
    server = await asyncio.start_server(listener.on_connect, host, port, reuse_port=reuse_port or None)
    return server, listener


async def start_server(
    handler: Handler,
    *,
    host: str = "127.0.0.1",
    port: int = 2575,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
) -> asyncio.Server:
    """Start listening and return the asyncio server (``port=0`` picks a free port: see ``server.sockets``).

    The caller owns the server: ``server.close()`` stops accepting; open connections end when their peer
    closes or times out. :func:`serve` adds a graceful shutdown.
    """
    server, _ = await _open(
        handler,
        host=host,
        port=port,
        max_message_bytes=max_message_bytes,
        read_timeout_s=read_timeout_s,
        idle_timeout_s=idle_timeout_s,
    )
    return server


async def serve(
    handler: Handler,
    *,
    host: str = "127.0.0.1",
    port: int = 2575,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    stop: asyncio.Event | None = None,
    shutdown_grace_s: float = 30.0,
    on_ready: Callable[[list[tuple[str, int]]], None] | None = None,
    handler_threads: int = DEFAULT_HANDLER_THREADS,
    reuse_port: bool = False,
) -> None:
    """Serve until ``stop`` is set (or the task is cancelled), then shut down cleanly.

    Shutdown stops accepting, closes idle connections at once, lets connections whose handler is running
    finish that message and send its ACK (up to ``shutdown_grace_s``), then cancels what is left. A handler
    thread cannot be interrupted: if the grace period ends first, its commit may land without an ACK, and the
    sender's resend is deduplicated. ``on_ready`` receives the bound (host, port) pairs. Handlers run on a pool of
    ``handler_threads`` threads (a handler that waits for a group commit holds one). ``reuse_port`` lets several
    listener processes share one port (SO_REUSEPORT; the kernel spreads connections across them).
    """
    executor = ThreadPoolExecutor(max_workers=handler_threads, thread_name_prefix="mllp-handler")
    server, listener = await _open(
        handler,
        host=host,
        port=port,
        max_message_bytes=max_message_bytes,
        read_timeout_s=read_timeout_s,
        idle_timeout_s=idle_timeout_s,
        executor=executor,
        reuse_port=reuse_port,
    )
    addresses = [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in server.sockets]
    logger.info("MLLP listening on %s", ", ".join(f"{h}:{p}" for h, p in addresses))
    if on_ready is not None:
        on_ready(addresses)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        logger.info("MLLP shutting down (%d open connections)", len(listener.connections))
        listener.stopping = True
        server.close()
        # Closing the transport (not cancelling the task) ends an idle connection's read with EOF; Python
        # 3.11 logs a spurious error for a cancelled stream-callback task, so cancelling is the last resort.
        for task, writer in list(listener.connections.items()):
            if task not in listener.busy:
                writer.close()
        pending = set(listener.connections)
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=shutdown_grace_s)
            for task in still_running:
                logger.warning("MLLP: a handler still running after %.0f s is abandoned", shutdown_grace_s)
                task.cancel()
            if still_running:
                await asyncio.wait(still_running)
        await server.wait_closed()
        executor.shutdown(wait=False)
        logger.info("MLLP stopped")


def run_forever(
    handler: Handler,
    *,
    host: str = "127.0.0.1",
    port: int = 2575,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    shutdown_grace_s: float = 30.0,
    on_ready: Callable[[list[tuple[str, int]]], None] | None = None,
    handler_threads: int = DEFAULT_HANDLER_THREADS,
    reuse_port: bool = False,
) -> None:
    """Run :func:`serve` in a new event loop until SIGINT or SIGTERM, then shut down cleanly and return."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows / not main thread
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
        try:
            await serve(
                handler,
                host=host,
                port=port,
                max_message_bytes=max_message_bytes,
                read_timeout_s=read_timeout_s,
                idle_timeout_s=idle_timeout_s,
                stop=stop,
                shutdown_grace_s=shutdown_grace_s,
                on_ready=on_ready,
                handler_threads=handler_threads,
                reuse_port=reuse_port,
            )
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    asyncio.run(main())


def send_message(
    host: str,
    port: int,
    text: str,
    timeout: float = 10.0,
    *,
    encoding: str = "utf-8",
    max_ack_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> str:
    """Send one framed message and return the acknowledgement text (blocking).

    ``timeout`` bounds the whole exchange in seconds (``TimeoutError``). Raises ``ConnectionError`` when the
    peer closes before a complete ACK frame, ``ValueError`` when the ACK exceeds ``max_ack_bytes``.
    """
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(_frame(text, encoding))
        framer = MLLPFramer(max_ack_bytes)
        while True:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            data = sock.recv(_READ_SIZE)
            if not data:
                raise ConnectionError("the peer closed the connection before the acknowledgement arrived")
            for event in framer.feed(data):
                if isinstance(event, Frame):
                    return decode_payload(event.payload)[0]
                if isinstance(event, Oversize):
                    raise ValueError(f"acknowledgement larger than {max_ack_bytes} bytes")
