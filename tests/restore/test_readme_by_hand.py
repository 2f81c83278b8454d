"""The README.txt on every tape, followed literally with GNU tar, gives the same bytes as tapeconsole's restore.

The `mt` commands position the tape at file N; here the tape file is dumped from the virtual drive
(what `tapeconsole read DRIVE --file N` writes, what /dev/nst0 delivers after `mt fsf N`), and every
tar, cat and sha256sum command the README gives is run as written, /dev/nst0 replaced by the dump.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

from tests.restore.conftest import RestoreSite, make_tree, same_tree


def readme_of(rs: RestoreSite, drive: str, tmp_path: Path) -> str:
    label_file = rs.site.tape_file(drive, 0, tmp_path / f"{drive}-label.tar")
    with tarfile.open(label_file) as tar:
        handle = tar.extractfile("README.txt")
        assert handle is not None
        return handle.read().decode()


def commands(readme: str) -> list[str]:
    """The commands of 'Restore by hand', in order, comments dropped."""
    section = readme.split("Restore by hand", 1)[1].split("To see what is on this tape", 1)[0]
    wanted = ("mt ", "tar ", "cat ", "sha256sum ")
    return [line.split("#", 1)[0].strip() for line in section.splitlines() if line.strip().startswith(wanted)]


def run(command: str, cwd: Path) -> str:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done.stdout


def follow_the_readme(readme: str, dump: Path, number: int, workdir: Path) -> dict:
    """Run the README's commands for tape file `number`; returns the manifest it shows."""
    workdir.mkdir()
    steps = commands(readme)
    positioning = [c for c in steps if c.startswith("mt ")]
    assert "mt -f /dev/nst0 rewind" in positioning and "mt -f /dev/nst0 setblk 0" in positioning
    assert "mt -f /dev/nst0 fsf N" in positioning  # what the dump of file N stands for
    manifest: dict = {}
    for command in steps:
        if command.startswith("mt "):
            continue
        if command == "sha256sum <member>":
            for member in manifest["members"]:
                digest = run(f"sha256sum {member['name']}", workdir).split()[0]
                assert digest == member["sha256"], member["name"]
            continue
        output = run(command.replace("/dev/nst0", str(dump)).replace(" N", f" {number}"), workdir)
        if command.startswith("cat MANIFEST.json"):
            manifest = json.loads(output)
        if command.startswith("tar ") and "-t" in command:
            assert "MANIFEST.json" in output
    assert manifest.get("tape_file") == number
    return manifest


def test_the_readme_on_the_tape_restores_the_same_bytes(restore_site, tmp_path: Path) -> None:
    rs = restore_site(part_mib=1)
    make_tree(rs.folder / "data")
    [files] = rs.sets_of(rs.backup("nightly-files"))
    [vdis] = rs.sets_of(rs.backup("nightly-vdi"))

    # a file-tree set
    readme = readme_of(rs, "lto4", tmp_path)
    dump = rs.site.tape_file("lto4", files["file"], tmp_path / "files.dump")
    by_hand = tmp_path / "by-hand-files"
    manifest = follow_the_readme(readme, dump, files["file"], by_hand)
    tree_line = next(line for line in readme.splitlines() if line.strip().startswith("File-tree set:"))
    joined, single = re.match(r"\s*File-tree set:\s+(.+?)\s+\(or (.+)\)\s*$", tree_line).groups()
    parts = [m for m in manifest["members"] if ".part" in m["name"]]
    run(joined if parts else single, by_hand)
    ours = tmp_path / "tapeconsole-files"
    assert rs.restore(files["id"], to=str(ours))["ok"]
    for root in ("mail", "shares"):
        assert same_tree(by_hand / root, ours / root)
        assert same_tree(by_hand / root, rs.folder / "data" / root)

    # a VDI set: parts joined as the README says
    readme = readme_of(rs, "lto5", tmp_path)
    dump = rs.site.tape_file("lto5", vdis["file"], tmp_path / "vdis.dump")
    by_hand = tmp_path / "by-hand-vdis"
    manifest = follow_the_readme(readme, dump, vdis["file"], by_hand)
    join = re.search(r"`(cat NAME\.part\* > NAME)`", readme.replace("\n", " "))
    assert join is not None
    split = {p["member"] for p in manifest["parts"] if p["part"] > 0}
    assert split
    for name in split:
        run(join.group(1).replace("NAME", name), by_hand)
    ours = tmp_path / "tapeconsole-vdis"
    assert rs.restore(vdis["id"], to=str(ours))["ok"]
    for member in {p["member"] for p in manifest["parts"]}:
        assert (by_hand / member).read_bytes() == (ours / member).read_bytes(), member
