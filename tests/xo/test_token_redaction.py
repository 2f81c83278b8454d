"""The XO token never reaches anything recorded, even when XO echoes the request's cookie back."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator

import pytest

from console.engine.redaction import RedactingFilter, redact
from console.engine.sources.xo_client import XoClient, XoError

TOKEN = "s3cr3t-T0KEN-for-the-test-0123456789"


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        body = f"bad request, you sent cookie: {self.headers.get('cookie')} for {self.path}".encode()
        self.send_response(500)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_echoed_cookie_is_cut_from_the_error(echo_url: str) -> None:
    with XoClient(echo_url, token=TOKEN, connect_retries=0, timeout=5) as client, pytest.raises(XoError) as caught:
        client.list_vms()
    text = str(caught.value)
    assert "HTTP 500" in text and "<redacted>" in text
    assert TOKEN not in text and TOKEN[:12] not in text


def test_the_daemon_log_cuts_every_known_secret(caplog: pytest.LogCaptureFixture) -> None:
    XoClient("http://127.0.0.1:9", token=TOKEN).close()  # the client makes its token known
    logger = logging.getLogger("tapeconsole.test-redaction")
    handler = logging.Handler()
    lines: list[str] = []
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.error("run failed: %s", f"XO said authenticationToken={TOKEN}; and {TOKEN}")
    finally:
        logger.removeHandler(handler)
    assert lines == ["run failed: XO said authenticationToken=<redacted>; and <redacted>"]
    assert redact("authenticationToken=abc.def other") == "authenticationToken=<redacted> other"
