"""A real Milvus server for the tests: the standalone server that `pip install milvus==2.3.5`
ships (Apache-2.0), in a virtualenv of its own, on free ports, with its own data folder.

`pip`'s milvus package is a Python wrapper (`milvus-server`) that unpacks the Go binary into the
data folder and runs it as a child process. Stopping the wrapper leaves the server running, so
the server process itself is stopped: SIGTERM, then SIGKILL if it is still up after 20 s.

The 2.3 binary has no setting for the address it listens on: it listens on all interfaces (on
ports picked at random here), not on loopback only. The tests reach it on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PACKAGE = "milvus==2.3.5"  # the newest real server wheel on PyPI for Linux x86-64
PORT_OPTIONS = (
    "--etcd-port", "--root-coord-port", "--proxy-port", "--proxy-internal-port", "--query-coord-port",
    "--query-node-port", "--index-coord-port", "--index-node-port", "--data-coord-port", "--data-node-port",
)
START_SECONDS = 180
STOP_SECONDS = 20


def install(venv_dir: Path) -> Path:
    """The `milvus-server` command, installed into venv_dir unless it is there already."""
    command = venv_dir / "bin" / "milvus-server"
    if not command.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True, capture_output=True)
        subprocess.run([str(venv_dir / "bin" / "pip"), "install", "-q", PACKAGE], check=True, capture_output=True, timeout=900)
    return command


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class MilvusServer:
    """One server, started and stopped by the tests, on the same ports throughout."""

    def __init__(self, command: Path, data_dir: Path):
        self.command = command
        self.data_dir = data_dir
        self.ports = dict(zip(PORT_OPTIONS, free_ports(len(PORT_OPTIONS))))
        self.uri = f"http://127.0.0.1:{self.ports['--proxy-port']}"
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self._wrapper: subprocess.Popen | None = None
        self.pid: int | None = None  # the server's own process

    def start(self) -> None:
        args = [str(self.command), "--data", str(self.data_dir)]
        for option, port in self.ports.items():
            args += [option, str(port)]
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - the wrapper writes to it until stopped
        # Unbuffered: the wrapper prints the server's pid once /healthz answers OK.
        self._wrapper = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"), start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            found = re.findall(r"Process:\s+(\d+)", self.log_path.read_text(encoding="utf-8", errors="replace"))
            if found and self._alive(int(found[-1])):
                self.pid = int(found[-1])
                return
            if self._wrapper.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the Milvus server did not start; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.pid is not None and self._alive(self.pid):
            os.kill(self.pid, sig)
            deadline = time.monotonic() + STOP_SECONDS
            while self._alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if self._alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
        if self._wrapper is not None:
            self._wrapper.kill()
            self._wrapper.wait(10)
        self._wrapper = self.pid = None

    def kill(self) -> None:
        """As a crash: SIGKILL, no chance to flush."""
        self.stop(signal.SIGKILL)

    def pause(self) -> None:
        """As a server that stops answering (a network partition, a stalled disk)."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def start_afresh(self) -> None:
        """Start again on an empty data folder: the 2.3 binary does not come back reliably on the
        data of a server that was killed (its components wait on the dead one's sessions)."""
        self.data_dir = self.data_dir.with_name(self.data_dir.name + "-afresh")
        self.start()

    @staticmethod
    def _alive(pid: int) -> bool:
        """Running, and not a zombie its wrapper has not reaped yet."""
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, IndexError):
            return False
