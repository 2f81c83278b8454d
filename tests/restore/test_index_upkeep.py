"""The file index follows the tapes: archives whose every set was overwritten leave it, the rest stay."""

from __future__ import annotations

from pathlib import Path

from console.engine.inventory import Inventory
from console.engine.inventory.file_index import FileIndex
from console.engine.inventory.frame_table import ArchiveFrame, ArchiveLayout, FrameTable
from console.engine.restore.index_upkeep import drop_overwritten, drop_overwritten_later


def add(index: FileIndex, key: str, files: int) -> None:
    with index.writer(key, build_trigrams=False) as writer:
        for n in range(files):
            writer.add(f"share/{key}/file{n}.txt", n, 1.7e9, n * 1024, n * 1024 + 512)


def test_the_index_drops_the_rows_of_overwritten_sets(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inventory.json")
    index = FileIndex(tmp_path / "index.db")
    for key in ("run1", "run2", "run3"):
        add(index, key, 50)
        with FrameTable(tmp_path / "index.db") as frames:
            frames.record(ArchiveLayout(key, "zstd", 1 << 20, 1000, 51200), [ArchiveFrame(0, 0, 0)])
    member = {"name": "backup.tar.gz", "index": None}
    inv.add_set({"barcode": "A", "state": "complete", "members": [{**member, "index": "run1"}]})
    inv.add_set({"barcode": "A", "state": "complete", "members": [{**member, "index": "run2"}]})
    inv.add_set({"barcode": "B", "state": "complete", "members": [{**member, "index": "run2"}]})  # continues
    inv.add_set({"barcode": "A", "state": "writing", "members": [{**member, "index": "run3"}]})
    inv.mark_sets_overwritten("A")
    inv.update_set(4, state="writing")  # still being written: never dropped
    assert drop_overwritten(index, inv.sets()) == ["run1"]
    assert [s.set_id for s in index.sets()] == ["run2", "run3"] and index.count() == 100
    with FrameTable(tmp_path / "index.db") as frames:
        assert frames.layout("run1") is None and frames.layout("run2") is not None
    inv.mark_sets_overwritten("B")
    inv.update_set(4, state="writing")
    drop_overwritten_later(tmp_path / "index.db", inv.sets()).join(timeout=30)
    assert [s.set_id for s in index.sets()] == ["run3"] and index.count() == 50
    assert index.search("share/run2/*") == []


def test_marking_a_tapes_sets_overwritten_tells_the_hook(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inventory.json")
    told: list[str] = []
    inv.on_sets_overwritten = told.append
    assert inv.mark_sets_overwritten("A") == 0 and told == []  # nothing of it was kept: nothing to drop
    inv.add_set({"barcode": "A", "state": "complete", "members": []})
    assert inv.mark_sets_overwritten("A") == 1 and told == ["A"]
