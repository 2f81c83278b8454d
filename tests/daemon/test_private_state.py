"""The daemon's state is its own: folders 0700, files 0600 (the log, the inventory, the images, the index)."""

from __future__ import annotations

import stat
from pathlib import Path

from console.engine.state_folder import private_folder
from tests.daemon.conftest import Site


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_every_state_file_of_a_running_daemon_is_private(site: Site) -> None:
    var = site.folder / "var"
    var.mkdir()
    (var / "inventory.json").write_text("")  # left from before, world-readable
    (var / "inventory.json").chmod(0o644)
    assert site.run("tapes") == 0  # starts the daemon
    assert site.run("load", "lto4", "TST101L4") == 0
    assert mode(var) == 0o700
    files = [p for p in var.rglob("*") if not p.is_socket() and not p.is_dir()]
    names = {p.name for p in files}
    assert {"daemon.log", "inventory.json", "TST101L4.tape"} <= names, names
    assert {p.name: oct(mode(p)) for p in files if mode(p) != 0o600} == {}
    assert {p.name: oct(mode(p)) for p in var.rglob("*") if p.is_dir() and mode(p) != 0o700} == {}
    assert mode(site.socket) == 0o660


def test_a_socket_group_may_pass_through_the_state_folder_and_nothing_more(tmp_path: Path) -> None:
    import grp
    import os

    group = grp.getgrgid(os.getgid()).gr_name
    state = tmp_path / "var"
    (state / "shelf").mkdir(parents=True)
    (state / "shelf" / "A.img").write_bytes(b"data")
    (state / "shelf" / "A.img").chmod(0o644)
    private_folder(state, group=group)
    assert mode(state) == 0o710 and mode(state / "shelf") == 0o700 and mode(state / "shelf" / "A.img") == 0o600


def test_the_file_index_is_private_from_its_first_byte(tmp_path: Path) -> None:
    from console.engine.inventory.file_index import FileIndex

    index = FileIndex(tmp_path / "fileindex.sqlite")
    try:
        assert mode(tmp_path / "fileindex.sqlite") == 0o600
    finally:
        index.close()
