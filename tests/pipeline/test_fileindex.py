"""The file index: sets of files in SQLite, found again by glob."""

from __future__ import annotations

import gzip
import random
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.engine.inventory.file_index import FileIndex, FileIndexError, IndexedFile, storable_path
from console.engine.tapeformat.file_listing import listing_tsv_gz

PATHS = [
    "mail/alice/Maildir/cur/1700000000.M1P2.mail,S=100:2,S",
    "mail/alice/Maildir/.Sent/cur/1700000001.M3P4.mail,S=200:2,S",
    "mail/bob/Maildir/new/1700000002.M5P6.mail,S=300",
    "share/Finance/2024/Invoices/INV-2024-0001.pdf",
    "share/Finance/2024/Invoices/inv-2024-0002.PDF",
    "share/Finance/Übersicht Budget 2024.txt",
    "share/Sales/Reports/Q3-2024 sales.csv",
    "share/50%_done [draft].txt",
]


def fill(index: FileIndex, set_id: str, paths: list[str], batch_rows: int = 3) -> None:
    with index.writer(set_id, batch_rows=batch_rows, build_trigrams=False) as writer:
        for i, path in enumerate(paths):
            writer.add(path, 100 + i, 1_700_000_000.5 + i, i * 2048, i * 2048 + 512)


@pytest.fixture
def index(tmp_path: Path) -> FileIndex:
    idx = FileIndex(tmp_path / "index.db")
    fill(idx, "monday", PATHS)
    fill(idx, "tuesday", PATHS[:4])
    return idx


def paths(result: list[IndexedFile]) -> list[str]:
    return sorted({f.path for f in result})


@pytest.mark.parametrize("trigrams_built", [False, True])
def test_globs(index: FileIndex, trigrams_built: bool) -> None:
    if trigrams_built:
        assert index.update_trigrams() == len(PATHS)
    assert paths(index.search("mail/alice/*")) == sorted(PATHS[:2])
    assert paths(index.search("*.pdf")) == [PATHS[3]]
    assert paths(index.search("*.pdf", ignore_case=True)) == sorted(PATHS[3:5])
    assert paths(index.search("*Invoices/*")) == sorted(PATHS[3:5])
    assert paths(index.search("*/new/*")) == [PATHS[2]]
    assert paths(index.search("*Übersicht*")) == [PATHS[5]]
    assert paths(index.search("*[0-9]sales*")) == []
    assert paths(index.search("*Q[34]-2024*")) == [PATHS[6]]
    assert paths(index.search("*50%_done*", ignore_case=True)) == [PATHS[7]]
    assert paths(index.search("*50%_DONE*", ignore_case=True)) == [PATHS[7]]
    assert paths(index.search("*5?%*")) == [PATHS[7]]
    assert paths(index.search("*5%*")) == []  # % and _ are no wildcards in a glob
    assert paths(index.search("*5%*", ignore_case=True)) == []
    assert paths(index.search("*0_*", ignore_case=True)) == []
    assert paths(index.search("?hare/*")) == sorted(PATHS[3:])


def test_results_carry_set_size_mtime_offsets(index: FileIndex) -> None:
    hits = index.search("*INV-2024-0001.pdf")
    assert sorted(h.set_id for h in hits) == ["monday", "tuesday"]
    assert hits[0] == IndexedFile(hits[0].set_id, PATHS[3], 103, 1_700_000_003.5, 3 * 2048, 3 * 2048 + 512)
    assert [h.set_id for h in index.search("*.csv")] == ["monday"]
    assert index.search("*INV*", set_id="tuesday", ignore_case=True)[0].set_id == "tuesday"
    assert len(index.search("*", limit=3)) == 3
    assert index.get("monday", PATHS[6]) is not None and index.get("tuesday", PATHS[6]) is None


def test_sets_count_files_delete(index: FileIndex) -> None:
    index.update_trigrams()
    assert [(s.set_id, s.files, s.complete) for s in index.sets()] == [("monday", 8, True), ("tuesday", 4, True)]
    assert index.count() == 12 and index.count("tuesday") == 4
    assert [f.path for f in index.files("tuesday")] == PATHS[:4]
    assert index.delete_set("monday") == 8
    assert paths(index.search("*.csv")) == []
    assert paths(index.search("*")) == sorted(PATHS[:4])
    fill(index, "wednesday", ["share/new file.csv"])  # ids are never reused: found before and after trigrams
    assert paths(index.search("*new file*")) == ["share/new file.csv"]
    index.update_trigrams()
    assert paths(index.search("*new file*")) == ["share/new file.csv"]


def test_trigrams_are_built_in_the_background_after_a_set(tmp_path: Path) -> None:
    index = FileIndex(tmp_path / "i.db")
    with index.writer("s") as writer:
        for path in PATHS:
            writer.add(path, 1, 0.0, 0, 512)
    assert writer.trigram_thread is not None
    writer.trigram_thread.join(timeout=30)
    assert index.update_trigrams() == 0  # nothing left to do
    assert paths(index.search("*Invoices*")) == sorted(PATHS[3:5])


def test_rewriting_a_set_replaces_it(index: FileIndex) -> None:
    fill(index, "monday", ["share/only this.txt"])
    assert [f.path for f in index.files("monday")] == ["share/only this.txt"]


def test_failed_writer_marks_set_incomplete(tmp_path: Path) -> None:
    index = FileIndex(tmp_path / "i.db")
    with pytest.raises(RuntimeError), index.writer("broken") as writer:
        writer.add("a", 1, 0.0, 0, 512)
        raise RuntimeError("source died")
    assert [(s.set_id, s.complete, s.files) for s in index.sets()] == [("broken", False, 1)]


def test_insert_errors_reach_the_producer(tmp_path: Path) -> None:
    index = FileIndex(tmp_path / "i.db")
    writer = index.writer("x", batch_rows=1)
    with pytest.raises(FileIndexError, match="indexing set 'x' failed"):
        for i in range(100):
            writer.add(f"p{i}", None, 0.0, i, i)  # type: ignore[arg-type]  # entries.size is NOT NULL
            time.sleep(0.01)
    with pytest.raises(FileIndexError):
        writer.close()


def test_undecodable_names_are_stored_readably(tmp_path: Path) -> None:
    raw = b"share/caf\xe9.txt".decode("utf-8", "surrogateescape")
    assert storable_path(raw) == "share/caf\\xe9.txt"
    index = FileIndex(tmp_path / "i.db")
    fill(index, "s", [raw])
    assert paths(index.search("*caf*")) == ["share/caf\\xe9.txt"]


def test_listing_for_the_tape(index: FileIndex) -> None:
    lines = gzip.decompress(listing_tsv_gz(index.files("tuesday"))).decode().splitlines()
    assert lines[0] == "offset\tdata_offset\tsize\tmtime\tpath"
    assert lines[1].split("\t") == ["0", "512", "100", "1700000000.500000000", PATHS[0]]
    assert len(lines) == 5
    fill(index, "odd", ["share/tab\there", "share/new\nline"])
    odd = gzip.decompress(listing_tsv_gz(index.files("odd"))).decode().splitlines()
    assert [line.split("\t")[-1] for line in odd[1:]] == ["share/tab\\there", "share/new\\nline"]


@pytest.mark.parametrize("ignore_case", [False, True])
@pytest.mark.parametrize(
    "pattern", ["*Übersicht*", "share/Finance/Ü*", "Ün[^0-9]cur/Ün", "Ün*[^0-9]mail", "*Budget 2024*", "*50%_done*"]
)
def test_patterns_the_trigram_index_gets_wrong_are_answered_right(
    index: FileIndex, pattern: str, ignore_case: bool
) -> None:
    """SQLite 3.40's FTS5 trigram GLOB misses non-ASCII text and crashed the process on some of these
    patterns: the index is only asked for a plain ASCII run, the whole pattern is tested by SQLite."""
    index.update_trigrams()
    with sqlite3.connect(":memory:") as ref:
        test = "lower(?) GLOB lower(?)" if ignore_case else "? GLOB ?"
        expected = sorted(
            f"{s}:{p}"
            for s, stored in (("monday", PATHS), ("tuesday", PATHS[:4]))
            for p in stored
            if ref.execute(f"SELECT {test}", (p, pattern)).fetchone()[0]
        )
    found = sorted(f"{f.set_id}:{f.path}" for f in index.search(pattern, limit=None, ignore_case=ignore_case))
    assert found == expected


segments = st.sampled_from(["mail", "share", "alice", "Maildir", "cur", "INV-2024", "a.b", "Q3", "x_y", "Ünï", "%"])
random_paths = st.lists(st.lists(segments, min_size=1, max_size=4).map("/".join), min_size=1, max_size=30, unique=True)
pattern_parts = st.sampled_from(
    ["*", "?", "[a-m]", "[^0-9]", "mail", "ali", "INV", "/", ".", "cur", "Ün", "Q3", "_", "%"]
)
patterns = st.lists(pattern_parts, min_size=1, max_size=5).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=random_paths, pattern=patterns, ignore_case=st.booleans(), build=st.booleans())
def test_search_equals_a_plain_glob_scan(
    tmp_path: Path, stored: list[str], pattern: str, ignore_case: bool, build: bool
) -> None:
    """Whatever route a search takes (index range, trigrams, unindexed tail), it finds what GLOB finds."""
    db = tmp_path / f"h{random.getrandbits(64)}.db"
    index = FileIndex(db)
    fill(index, "s", stored, batch_rows=7)
    if build:
        index.update_trigrams()
    found = paths(index.search(pattern, limit=None, ignore_case=ignore_case))
    with sqlite3.connect(":memory:") as ref:
        if ignore_case:
            expected = sorted(
                p for p in stored if ref.execute("SELECT lower(?) GLOB lower(?)", (p, pattern)).fetchone()[0]
            )
        else:
            expected = sorted(p for p in stored if ref.execute("SELECT ? GLOB ?", (p, pattern)).fetchone()[0])
    if ignore_case and any(not c.isascii() for c in pattern + "".join(stored)):
        # SQLite folds only ASCII letters, in LIKE as in lower(): compare on ASCII-only data
        expected = [p for p in expected if p.isascii()]
        found = [p for p in found if p.isascii()]
    assert found == expected
    index.close()
    db.unlink()


@pytest.mark.slow
def test_millions_of_rows_search_under_a_second(tmp_path: Path) -> None:
    index = FileIndex(tmp_path / "big.db")
    rng = random.Random(3)
    words = ["invoice", "report", "budget", "minutes", "offer", "photo", "scan", "letter"]
    with index.writer("big") as writer:
        for i in range(2_000_000):
            user = f"user{i % 300:03d}"
            if i % 5:
                path = f"mail/{user}/Maildir/cur/{1_600_000_000 + i}.M{i}P{i % 7919}.mail,S={i % 90000}:2,S"
            else:
                path = (
                    f"share/Projects/{user}/{rng.choice(words)} {i} {rng.choice(words)}.{rng.choice(['pdf', 'xlsx'])}"
                )
            writer.add(path, i, 1.6e9 + i, i * 1024, i * 1024 + 512)
    index.update_trigrams()
    for pattern in ["*1600123456*", "*.pdf", "*invoice 12*.pdf", "mail/user007/*", "*.M12P*", "*zzz*"]:
        start = time.perf_counter()
        index.search(pattern)
        assert time.perf_counter() - start < 1.0, pattern


def test_dropping_a_set_removes_its_rows_and_the_paths_no_other_set_holds(index: FileIndex) -> None:
    assert index.count("monday") == len(PATHS) and index.count("tuesday") == 4
    assert index.drop_set("monday") and not index.drop_set("nothing")
    assert [s.set_id for s in index.sets()] == ["tuesday"]  # out of every search at once
    assert {f.set_id for f in index.search("*")} == {"tuesday"}
    assert index.finish_drops(chunk=3) == len(PATHS)
    held = [r[0] for r in index._db.execute("SELECT path FROM paths ORDER BY id")]
    assert held == PATHS[:4]  # the four tuesday still holds stay, stored once
    assert index.count() == 4 and paths(index.search("*.pdf")) == [PATHS[3]]
    assert index.delete_set("tuesday") == 4 and index.count() == 0
    assert index._db.execute("SELECT count(*) FROM paths").fetchone()[0] == 0


def test_a_drop_cut_short_is_finished_by_the_next(tmp_path: Path) -> None:
    index = FileIndex(tmp_path / "index.db")
    fill(index, "old", PATHS)
    fill(index, "new", PATHS[2:])
    index.update_trigrams()
    index.drop_set("old")
    index.close()  # the daemon stopped (or crashed) before the rows went
    again = FileIndex(tmp_path / "index.db")
    assert [s.set_id for s in again.sets()] == ["new"] and again.count() == len(PATHS) - 2
    assert again.finish_drops() == len(PATHS)
    assert again._db.execute("SELECT count(*) FROM entries").fetchone()[0] == len(PATHS) - 2
    assert paths(again.search("mail/alice/*")) == []
    assert paths(again.search("*Invoices*")) == sorted(PATHS[3:5])  # through the trigrams, still right


def test_a_version_1_index_loses_its_path_index_and_keeps_its_rows(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "index.db")
    db.executescript("""
        CREATE TABLE sets (key INTEGER PRIMARY KEY, set_id TEXT NOT NULL UNIQUE, created REAL NOT NULL,
                           complete INTEGER NOT NULL DEFAULT 0, files INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE paths (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE);
        CREATE TABLE entries (set_key INTEGER NOT NULL, path_id INTEGER NOT NULL, size INTEGER NOT NULL,
                              mtime REAL NOT NULL, offset INTEGER NOT NULL, data_offset INTEGER NOT NULL,
                              PRIMARY KEY (set_key, path_id)) WITHOUT ROWID;
        CREATE INDEX entries_by_path ON entries(path_id);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO meta VALUES ('trigram_high', 0);
        INSERT INTO sets VALUES (1, 'run1', 1700000000.0, 1, 1);
        INSERT INTO paths VALUES (1, 'share/a.pdf');
        INSERT INTO entries VALUES (1, 1, 10, 1.5, 0, 512);
        PRAGMA user_version = 1;
    """)
    db.close()
    index = FileIndex(tmp_path / "index.db")
    names = {r[0] for r in index._db.execute("SELECT name FROM sqlite_master")}
    assert "entries_by_path" not in names and "dropping" in names
    assert index.search("*.pdf") == [IndexedFile("run1", "share/a.pdf", 10, 1.5, 0, 512)]
    assert index.delete_set("run1") == 1


def test_searches_look_rows_up_by_key_never_by_scanning_them(index: FileIndex) -> None:
    for set_id in (None, "monday"):
        sql = ("SELECT s.set_id FROM (SELECT id, path FROM paths WHERE path GLOB ?) p CROSS JOIN sets s "
               "CROSS JOIN entries e ON e.set_key = s.key AND e.path_id = p.id")
        if set_id:
            sql = ("SELECT s.set_id FROM sets s CROSS JOIN (SELECT id, path FROM paths WHERE path GLOB ?) p "
                   "CROSS JOIN entries e ON e.set_key = s.key AND e.path_id = p.id WHERE s.set_id = 'monday'")
        plan = " | ".join(r[-1] for r in index._db.execute("EXPLAIN QUERY PLAN " + sql, ["*.pdf"]))
        assert "SCAN e" not in plan and "SEARCH e USING PRIMARY KEY" in plan, plan


@pytest.mark.slow
def test_a_million_file_night_is_added_beside_earlier_nights_and_dropped(tmp_path: Path) -> None:
    index = FileIndex(tmp_path / "big.db")
    files = [f"mail/user{i % 1000:04d}/Maildir/cur/{1_600_000_000 + i}.M{i}:2,S" for i in range(1_000_000)]
    for night in ("run1", "run2"):
        started = time.perf_counter()
        with index.writer(night, build_trigrams=False) as writer:
            for i, path in enumerate(files):
                writer.add(path, i, 1.6e9, i * 2048, i * 2048 + 512)
        assert time.perf_counter() - started < 60, night
    assert index.count() == 2_000_000
    assert index._db.execute("SELECT count(*) FROM paths").fetchone()[0] == 1_000_000  # each path once
    hit = index.search("mail/user0042/Maildir/cur/1600123042.*", set_id="run2")
    assert [(f.set_id, f.offset) for f in hit] == [("run2", 123042 * 2048)]
    assert index.delete_set("run1") == 1_000_000
    assert index.count() == 1_000_000 and index._db.execute("SELECT count(*) FROM paths").fetchone()[0] == 1_000_000
