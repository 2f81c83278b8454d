"""The file index's on-tape form: a file-tree set's files as gzipped TSV, so the tape alone says what its
archive holds and where each file starts in the inner tar (offset of its header, offset of its data).

    offset <TAB> data_offset <TAB> size <TAB> mtime <TAB> path      (backslash, tab, newline escaped)

`zcat LISTING | cut -f5` lists the paths; the offsets are those of the uncompressed inner tar.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from typing import Protocol

HEADER = "offset\tdata_offset\tsize\tmtime\tpath\n"
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n"})


class ListedFile(Protocol):
    path: str
    size: int
    mtime: float
    offset: int
    data_offset: int


def listing_tsv_gz(files: Iterable[ListedFile]) -> bytes:
    """The listing of `files`, gzipped (deterministic: no timestamp in the gzip header)."""
    lines = [HEADER]
    lines += [f"{f.offset}\t{f.data_offset}\t{f.size}\t{f.mtime:.9f}\t{f.path.translate(_TSV_ESCAPES)}\n"
              for f in files]
    return gzip.compress("".join(lines).encode("utf-8"), compresslevel=6, mtime=0)
