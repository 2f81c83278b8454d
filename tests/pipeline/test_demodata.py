"""The demo tree: deterministic, realistic enough to exercise compression and the index."""

from __future__ import annotations

import base64
import email
import hashlib
import os
import zlib
from email import policy
from pathlib import Path

import pytest

from console.demo.file_tree import DemoTree, generate_demo_tree

from .conftest import DEMO_SIZE


def fingerprint(root: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in [""] + filenames:
            path = Path(dirpath) / name
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if name else "dir"
            out[str(path.relative_to(root))] = (path.stat().st_mtime_ns, digest)
    return out


def test_same_seed_same_tree(tmp_path: Path) -> None:
    a = generate_demo_tree(tmp_path / "a", size=2 << 20, seed=5)
    b = generate_demo_tree(tmp_path / "b", size=2 << 20, seed=5)
    c = generate_demo_tree(tmp_path / "c", size=2 << 20, seed=6)
    assert fingerprint(a.root) == fingerprint(b.root)
    assert fingerprint(a.root) != fingerprint(c.root)
    assert (a.files, a.bytes) == (b.files, b.bytes)


def test_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate_demo_tree(tmp_path)


def test_size_and_counts(demo_tree: DemoTree) -> None:
    files = [p for p in demo_tree.root.rglob("*") if p.is_file()]
    assert len(files) == demo_tree.files
    assert sum(p.stat().st_size for p in files) == demo_tree.bytes
    assert DEMO_SIZE * 0.95 < demo_tree.bytes < DEMO_SIZE * 1.15


def test_maildir_holds_rfc822_messages_with_attachments(demo_tree: DemoTree) -> None:
    users = sorted(p.name for p in demo_tree.mail.iterdir())
    assert len(users) >= 3
    for user in users:
        for sub in ("cur", "new", "tmp"):
            assert (demo_tree.mail / user / "Maildir" / sub).is_dir()
    messages = sorted(demo_tree.mail.glob("*/Maildir/**/cur/*"))
    assert len(messages) > 50
    attachments = 0
    for path in messages:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["From"] and msg["To"] and msg["Subject"] and msg["Message-ID"]
        assert msg["Date"].datetime.year in range(2022, 2026)
        assert f",S={path.stat().st_size}" in path.name
        for part in msg.iter_attachments():
            attachments += 1
            raw = part.get_payload(decode=True)
            assert raw[:4] in (b"%PDF", b"\xff\xd8\xff\xe0")
            assert base64.b64encode(raw)[:20] == part.get_payload().replace("\n", "").encode()[:20]
    assert attachments > 0


def test_share_mixes_compressible_and_incompressible_files(demo_tree: DemoTree) -> None:
    by_suffix: dict[str, list[Path]] = {}
    for path in demo_tree.share.rglob("*"):
        if path.is_file():
            by_suffix.setdefault(path.suffix, []).append(path)
    for suffix in (".csv", ".txt"):
        data = b"".join(p.read_bytes() for p in by_suffix[suffix])
        assert len(zlib.compress(data, 6)) < 0.5 * len(data)
    for suffix in (".jpg", ".pdf", ".xlsx"):
        data = b"".join(p.read_bytes() for p in by_suffix[suffix])
        assert len(zlib.compress(data, 6)) > 0.95 * len(data)
    names = [str(p.relative_to(demo_tree.root)) for p in demo_tree.share.rglob("*")]
    assert any(len(n.encode()) > 100 for n in names)
    assert any(not n.isascii() for n in names)
    assert any(" " in n for n in names)


def test_mtimes_are_in_the_past_and_spread(demo_tree: DemoTree) -> None:
    years = {int(1970 + p.stat().st_mtime // (365.25 * 86400)) for p in demo_tree.root.rglob("*") if p.is_file()}
    assert years <= {2022, 2023, 2024, 2025} and len(years) >= 3
