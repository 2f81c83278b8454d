"""The thin client of the daemon: HTTP/JSON over its Unix socket, for the CLI and the console.

Any client command starts the daemon in the background when none answers (like tmux starts its
server), so a new user needs one command.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from console.client.answer_cache import AnswerCache
from console.config.schema import Config

USER_HEADER = "X-Tapeconsole-User"
BASE_URL = "http://tapeconsole/v1"
START_TIMEOUT = float(os.environ.get("TAPECONSOLE_START_TIMEOUT", "60"))  # seconds for a new daemon to answer


class DaemonError(Exception):
    """The daemon answered with an error; str() is its one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def is_usage_error(self) -> bool:
        return self.status == 400


class DaemonUnavailable(Exception):
    """No daemon answers on the socket."""


def client_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


def error_of(response: httpx.Response) -> DaemonError:
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    if not message:
        message = f"HTTP {response.status_code} on {response.request.url.path}"
    return DaemonError(response.status_code, message)


def unavailable(exc: Exception, where: str) -> DaemonUnavailable:
    """A request that never got an answer, in one line: nothing listening, or the daemon went away."""
    if isinstance(exc, httpx.ConnectError | FileNotFoundError | ConnectionRefusedError):
        return DaemonUnavailable(f"no daemon answers on {where} ({exc})")
    return DaemonUnavailable(f"lost the daemon on {where}: {exc or exc.__class__.__name__}")


def answer_of(response: httpx.Response, path: str) -> Any:
    """The daemon's JSON answer; its refusal (or an answer that is not JSON) as a DaemonError."""
    if response.status_code >= 400:
        raise error_of(response)
    try:
        return response.json()
    except ValueError:
        raise DaemonError(response.status_code, f"the daemon answered {path} with something not JSON") from None


TRANSPORT_ERRORS = (httpx.TransportError, FileNotFoundError, ConnectionRefusedError)


class DaemonClient:
    def __init__(self, socket_path: Path, *, timeout: float | None = None) -> None:
        self.socket_path = Path(socket_path)
        self._http = httpx.Client(
            transport=httpx.HTTPTransport(uds=str(self.socket_path), verify=False),  # a Unix socket: no TLS
            base_url=BASE_URL,
            headers={USER_HEADER: client_user()},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )
        self.answers = AnswerCache()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, json: Any = None, timeout: float | None = None) -> Any:
        conditional = method == "GET"
        headers = self.answers.headers(path) if conditional else {}
        try:
            response = self._http.request(method, path, json=json, timeout=timeout, headers=headers)
        except TRANSPORT_ERRORS as exc:
            raise unavailable(exc, str(self.socket_path)) from None
        if response.status_code == 304 and headers:
            return self.answers.held(path)  # unchanged since the last answer to this path
        answer = answer_of(response, path)
        if conditional:
            self.answers.keep(path, response.headers.get("etag"), answer)
        return answer

    def get(self, path: str, timeout: float | None = 10.0) -> Any:
        return self.request("GET", path, timeout=timeout)

    def post(self, path: str, json: Any = None, timeout: float | None = None) -> Any:
        return self.request("POST", path, json=json if json is not None else {}, timeout=timeout)

    @contextmanager
    def stream(self, path: str) -> Iterator[Iterator[bytes]]:
        try:
            with self._http.stream("GET", path, timeout=None) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_of(response)
                yield response.iter_raw()
        except httpx.ConnectError as exc:
            raise unavailable(exc, str(self.socket_path)) from None

    def health(self) -> dict[str, Any] | None:
        try:
            return self.get("/health", timeout=3.0)
        except (DaemonUnavailable, DaemonError):
            return None


def daemon_log_path(config: Config) -> Path:
    return config.daemon.state_dir / "daemon.log"


def start_daemon(config: Config) -> dict[str, Any]:
    """Start `tapeconsole daemon run` in the background and wait until its socket answers."""
    config.daemon.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_path = daemon_log_path(config)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)  # a log kept from before is made private too
    with open(fd, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "console", "--config", str(config.path), "daemon", "run"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    with DaemonClient(config.daemon.socket) as client:
        while time.monotonic() < deadline:
            health = client.health()
            if health is not None:
                return health
            code = process.poll()
            if code is not None:
                health = client.health()  # another daemon may have won the race
                if health is not None:
                    return health
                tail = _last_line(log_path)
                raise DaemonUnavailable(f"the daemon exited with code {code}: {tail}")
            time.sleep(0.1)
    raise DaemonUnavailable(f"the daemon did not answer on {config.daemon.socket} within {START_TIMEOUT:.0f} s "
                            f"(see {log_path})")


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "no log"


def connect(config: Config, *, autostart: bool = True) -> DaemonClient:
    """A client of the configured daemon, starting one in the background when none answers."""
    client = DaemonClient(config.daemon.socket)
    if client.health() is None:
        if not autostart:
            client.close()
            raise DaemonUnavailable(f"no daemon answers on {config.daemon.socket}")
        start_daemon(config)
    return client
