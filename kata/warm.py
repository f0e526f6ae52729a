"""A warm test runner: keeps the heavy imports loaded between test runs.

Starting Python and importing numpy, matplotlib, pytest, hypothesis and torch
costs far more than running a module's tests, and the learner runs them
hundreds of times. The first ``make test-module-N`` starts this server in the
background (and runs the tests the ordinary way). It imports the libraries
once, then forks a fresh child for every run. The child imports the course's
own code (kata, exercises, reference, tests) anew, so every edit is seen. It
writes straight to the caller's terminal (the file descriptors are passed
over a Unix socket) and sends back pytest's exit code.

Anything unusual falls back to the ordinary in-process run: no fork (Windows),
no server yet, a server started by an older install (the key differs), a
crash. ``KATA_NO_SERVER=1`` turns the server off; it exits after an idle hour,
and ``python -m kata stop`` stops it at once.

The server runs as a plain script (``python kata/warm.py ROOT``) so that it
never imports the course's own package.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
import time
from pathlib import Path

IDLE_SECONDS = 3600
PRELOAD = ("numpy", "matplotlib", "matplotlib.pyplot", "matplotlib.testing.compare", "PIL.Image", "pytest",
           "_pytest.python", "_pytest.terminal", "_hypothesis_pytestplugin", "hypothesis", "hypothesis.strategies",
           "pytest_mpl.plugin", "pytest_timeout", "scipy.special", "torch", "torch.nn.functional", "torch.optim",
           # the first optimizer step imports torch._dynamo (seconds); sklearn: module 10's digits
           "torch._dynamo", "sklearn.datasets", "tqdm")


def paths(root: Path) -> tuple[Path, Path]:
    state = root / ".kata"
    return state / "warm.sock", state / "warm.log"


def key(root: Path) -> str:
    """What the server's imports depend on: the interpreter, the install, this file."""
    stamp = root / ".venv" / ".installed"
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


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


# ---------------------------------------------------------------------------
# Client (imported by kata.cli; standard library only)


def available() -> bool:
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and os.environ.get("KATA_NO_SERVER", "") in ("", "0")


def run(root: Path, args: list[str]) -> int | None:
    """pytest's exit code from a warm run, or None if there is no usable server (one is started)."""
    if not available():
        return None
    socket_path, _ = paths(root)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(socket_path))
    except OSError:
        client.close()
        start(root)
        return None
    try:
        request = json.dumps({"key": key(root), "cwd": os.getcwd(), "args": args, "env": dict(os.environ)}).encode()
        socket.send_fds(client, [struct.pack("!I", len(request)) + request], [0, 1, 2])
        reply = _receive(client)
        if reply is None or "pid" not in reply:  # a stale server says so and exits
            client.close()
            if reply and reply.get("stale"):
                start(root)
            return None
        pid = reply["pid"]
        while True:
            try:
                done = _receive(client)
                break
            except KeyboardInterrupt:  # Ctrl-C reaches us, not the child: pass it on
                os.kill(pid, signal.SIGINT)
        if done is None:  # the child died without a word
            print("(the warm test runner crashed; run again, or set KATA_NO_SERVER=1)", file=sys.stderr)
            return 1
        return int(done["exit"])
    finally:
        client.close()


def start(root: Path) -> None:
    """Start a server in the background (it takes a few seconds to warm up)."""
    import subprocess

    socket_path, log_path = paths(root)
    socket_path.parent.mkdir(exist_ok=True)
    with open(log_path, "a") as log:
        subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(root)], cwd=root,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def stop(root: Path) -> bool:
    socket_path, _ = paths(root)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(socket_path))
    except OSError:
        return False
    with client:
        request = json.dumps({"stop": True}).encode()
        socket.send_fds(client, [struct.pack("!I", len(request)) + request], [])
        _receive(client)
    return True


# ---------------------------------------------------------------------------
# Server


def serve(root: Path) -> None:
    socket_path, _ = paths(root)
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
    try:
        socket_path.unlink()
    except FileNotFoundError:
        pass
    listener.bind(str(socket_path))
    listener.listen(8)
    listener.settimeout(IDLE_SECONDS)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                print("[warm] idle: exiting", flush=True)
                return
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
            size = struct.unpack("!I", message[:4])[0]
            while len(message) < 4 + size:
                message += connection.recv(4 + size - len(message))
            request = json.loads(message[4:4 + size])
            if request.get("stop") or request.get("key") != my_key:
                _send(connection, {"stale": not request.get("stop")})
                connection.close()
                for fd in fds:
                    os.close(fd)
                print("[warm] stopping" if request.get("stop") else "[warm] install changed: exiting", flush=True)
                return
            if os.fork() == 0:
                listener.close()
                _child(connection, fds, request)  # never returns
            connection.close()
            for fd in fds:
                os.close(fd)
    finally:
        if socket_path.exists():
            socket_path.unlink()


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
        _send(connection, {"pid": os.getpid()})
        import pytest

        code = int(pytest.main(request["args"]))
    except BaseException as error:  # noqa: BLE001 - reported, then the exit code says it
        print(f"(warm test runner: {type(error).__name__}: {error})", file=sys.stderr)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            _send(connection, {"exit": code})
        finally:
            os._exit(code)


if __name__ == "__main__":
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p != here]  # never import kata/ modules as top-level names
    serve(Path(sys.argv[1]).resolve())
