"""A warm test runner: keeps the heavy imports loaded between test runs.

Starting Python and importing numpy, matplotlib, pytest, hypothesis and torch
costs far more than running a module's tests, and the learner runs them
hundreds of times. The first test run starts this server in the background
(and runs its tests the ordinary way). It imports the libraries once, then
forks a fresh child for every run. The child imports the course's own code
(kata, exercises, reference, tests) anew, so every edit is seen. It writes
straight to the caller's terminal (the file descriptors are passed over a Unix
socket) and sends back pytest's exit code.

One server per checkout, and nothing left spinning:

- the server holds an exclusive lock for its whole life; a second one started
  at the same moment finds it taken and exits before importing anything;
- every socket operation has a timeout, and a request that stops half-way is
  dropped: no loop waits on a dead client;
- each child watches its client and exits when the client goes away (Ctrl-C,
  a killed terminal), so no test run outlives the command that asked for it;
- the socket lives under the system's temporary folder with a short name (a
  deep checkout would exceed the 108-byte limit of a Unix socket path);
- it exits after an idle hour, when its checkout is gone, when the install
  changes, or at once with ``python -m kata stop``.

It is used on Linux only: it needs ``fork`` and fd passing, and forking after
torch has been imported is not known to be safe on macOS. Anything unusual
falls back to the ordinary run. ``KATA_NO_SERVER=1`` turns it off.

The server runs as a plain script (``python kata/tools/warm.py ROOT``) so that
it never imports the course's own package.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

IDLE_SECONDS = 3600
CHECK_EVERY = 30  # seconds between checks that the checkout still exists
REQUEST_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "matplotlib.testing.compare", "PIL.Image", "pytest",
           "_pytest.python", "_pytest.terminal", "_hypothesis_pytestplugin", "hypothesis", "hypothesis.strategies",
           "pytest_mpl.plugin", "pytest_timeout", "scipy.special", "scipy.stats", "torch", "torch.nn.functional",
           "torch.optim", "torch.distributions",
           # the first optimizer step imports torch._dynamo (seconds); sklearn: module 11's small digits
           "torch._dynamo", "sklearn.datasets", "tqdm")


def state_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"kata-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def paths(root: Path) -> tuple[Path, Path, Path]:
    """(socket, lock, log) for the checkout at ``root``."""
    tag = hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:16]
    folder = state_dir()
    return folder / f"{tag}.sock", folder / f"{tag}.lock", Path(root) / ".kata" / "warm.log"


def key(root: Path) -> str:
    """What the server's imports depend on: the interpreter, the install, this file."""
    stamp = Path(root) / ".venv" / ".installed"
    parts = [sys.executable, sys.version, str(stamp.stat().st_mtime if stamp.exists() else 0),
             str(Path(__file__).stat().st_mtime)]
    return "|".join(parts)


def _send(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def _receive(sock: socket.socket) -> dict | None:
    header = _exactly(sock, 4)
    if header is None:
        return None
    body = _exactly(sock, struct.unpack("!I", header)[0])
    return json.loads(body) if body is not None else None


def _exactly(sock: socket.socket, size: int, start: bytes = b"") -> bytes | None:
    """``size`` bytes, or None if the other side closed (or timed out) first."""
    data = start
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except (TimeoutError, OSError):
            return None
        if not chunk:
            return None
        data += chunk
    return data


# ---------------------------------------------------------------------------
# Client (imported by the tools; standard library only)


def available() -> bool:
    return (sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "send_fds")
            and os.environ.get("KATA_NO_SERVER", "") in ("", "0"))


def _connect(root: Path) -> socket.socket | None:
    socket_path, _, _ = paths(root)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(CONNECT_TIMEOUT)
    try:
        client.connect(str(socket_path))
    except OSError:
        client.close()
        return None
    return client


def run(root: Path, args: list[str], quiet: bool = False) -> int | None:
    """pytest's exit code from a warm run, or None if there is no usable server (one is started)."""
    if not available():
        return None
    client = _connect(root)
    if client is None:
        start(root)
        return None
    devnull = None
    try:
        fds = [0, 1, 2]
        if quiet:
            devnull = os.open(os.devnull, os.O_RDWR)
            fds = [0, devnull, devnull]
        request = json.dumps({"key": key(root), "cwd": os.getcwd(), "args": args, "env": dict(os.environ)}).encode()
        try:
            socket.send_fds(client, [struct.pack("!I", len(request)) + request], fds)
            reply = _receive(client)
        except OSError:
            return None
        if reply is None or "pid" not in reply:  # a stale server says so and exits
            if reply and reply.get("stale"):
                start(root)
            return None
        pid = reply["pid"]
        client.settimeout(None)  # the run takes as long as the tests do
        while True:
            try:
                done = _receive(client)
                break
            except KeyboardInterrupt:  # Ctrl-C reaches us, not the child: pass it on
                try:
                    os.kill(pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        if done is None:  # the child died without a word
            print("(the warm test runner's run ended without a result; run again, or set KATA_NO_SERVER=1)",
                  file=sys.stderr)
            return 1
        return int(done["exit"])
    finally:
        client.close()
        if devnull is not None:
            os.close(devnull)


def lock_is_free(root: Path) -> bool:
    import fcntl

    _, lock_path, _ = paths(root)
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(lock, fcntl.LOCK_UN)
        return True


def start(root: Path) -> None:
    """Start a server in the background, unless one already owns this checkout (it warms up in seconds)."""
    import subprocess

    if not available() or not lock_is_free(root):
        return
    _, _, log_path = paths(root)
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "a") as log:
        subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(Path(root).resolve())], cwd=root,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def stop(root: Path, wait: float = 10.0) -> bool:
    """Ask the server to exit; True if one was running. Waits until it has let go of its lock."""
    client = _connect(root)
    if client is None:
        return False
    with client:
        request = json.dumps({"stop": True}).encode()
        try:
            socket.send_fds(client, [struct.pack("!I", len(request)) + request], [])
            _receive(client)
        except OSError:
            pass
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not lock_is_free(root):
        time.sleep(0.05)
    return True


def running(root: Path) -> bool:
    return not lock_is_free(root)


# ---------------------------------------------------------------------------
# Server


def serve(root: Path) -> None:
    import fcntl

    socket_path, lock_path, _ = paths(root)
    lock = open(lock_path, "a")  # held (and locked) until this process exits
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print(f"[warm] another server owns {root}: exiting", flush=True)
        return
    my_key = key(root)
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    print(f"[warm] preloaded in {time.perf_counter() - started:.1f} s (pid {os.getpid()})", flush=True)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    socket_path.unlink(missing_ok=True)
    listener.bind(str(socket_path))
    listener.listen(8)
    listener.settimeout(CHECK_EVERY)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    last_request = time.monotonic()
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                if not (root / "reference").is_dir():
                    print("[warm] the checkout is gone: exiting", flush=True)
                    return
                if time.monotonic() - last_request > IDLE_SECONDS:
                    print("[warm] idle: exiting", flush=True)
                    return
                continue
            last_request = time.monotonic()
            if _handle(connection, my_key) == "exit":
                return
    finally:
        socket_path.unlink(missing_ok=True)
        lock.close()


def _handle(connection: socket.socket, my_key: str) -> str | None:
    """Serve one request; "exit" when the server should stop."""
    fds: list[int] = []
    try:
        connection.settimeout(REQUEST_TIMEOUT)
        try:
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        except OSError:
            return None
        if len(message) < 4:
            return None
        size = struct.unpack("!I", message[:4])[0]
        message = _exactly(connection, 4 + size, message)
        if message is None:  # the client went away half-way
            return None
        request = json.loads(message[4:4 + size])
        if request.get("stop") or request.get("key") != my_key:
            try:
                _send(connection, {"stale": not request.get("stop")})
            except OSError:
                pass
            print("[warm] stopping" if request.get("stop") else "[warm] install changed: exiting", flush=True)
            return "exit"
        if len(fds) != 3:
            return None
        if os.fork() == 0:
            _child(connection, fds, request)  # never returns
        return None
    finally:
        connection.close()
        for fd in fds:
            os.close(fd)


def _child(connection: socket.socket, fds: list[int], request: dict) -> None:
    code = 3
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", closefd=False, buffering=1)
        sys.stderr = open(2, "w", closefd=False, buffering=1)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path.insert(0, request["cwd"])
        connection.settimeout(None)
        _send(connection, {"pid": os.getpid()})
        threading.Thread(target=_exit_when_client_leaves, args=(connection,), daemon=True).start()
        import pytest

        code = int(pytest.main(request["args"]))
    except BaseException as error:  # noqa: BLE001 - reported, then the exit code says it
        print(f"(warm test runner: {type(error).__name__}: {error})", file=sys.stderr)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            _send(connection, {"exit": code})
        except BaseException:  # noqa: BLE001 - the client is gone; nothing to tell
            pass
        finally:
            os._exit(code)


def _exit_when_client_leaves(connection: socket.socket) -> None:
    """The client never writes after its request: end of file means it is gone, so stop the run."""
    try:
        while connection.recv(1):
            pass
    except OSError:
        pass
    os._exit(130)


if __name__ == "__main__":
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p != here]  # never import kata/tools modules as top-level names
    serve(Path(sys.argv[1]).resolve())
