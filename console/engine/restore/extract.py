"""Restoring into a folder: members as files (parts joined), a file-tree archive unpacked.

Nothing lands outside the target. Member names from tape are checked (no absolute path, no `..`, no
symlink in the target leading out); an archive is unpacked with tarfile's data filter, and what it
refuses (absolute paths, `..`, device files, links that leave the target) is reported, not extracted.
The target must be empty unless the operator forces it; every file then replaced is listed.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
import tarfile
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import IO, Any

import zstandard

from console.engine.refusals import BadRequest, Refused
from console.engine.restore.archive_stream import inner_tar
from console.engine.restore.catalog import Member, Piece
from console.engine.restore.pipe import ChunkPipe, PipeFailed
from console.engine.restore.sink import TargetRefused
from console.engine.restore.target_folder import TargetFolder
from console.engine.unix_users import user_name
from console.wire.restore_globs import inner_globs

Json = dict[str, Any]
MAX_LISTED = 200  # replaced or refused paths kept in the result; the counts are always whole
PIPE_CHUNKS = 4  # tape records queued for the unpacking thread: little read past the last file wanted


def check_folder(text: str, *, force: bool, forbidden: list[Path]) -> Path:
    """The folder a restore writes into, or a one-line refusal."""
    path = Path(text)
    if not path.is_absolute():
        raise BadRequest(f"restore folder {text!r} must be an absolute path")
    path = Path(os.path.normpath(path))
    for place in forbidden:
        place = Path(os.path.realpath(place))
        real = Path(os.path.realpath(path))
        if real == place or place in real.parents or real in place.parents:
            raise Refused(f"{path} holds or is inside {place}, where the daemon keeps its cartridges and state: "
                          "choose another folder")
    if path.exists() or path.is_symlink():
        mode = os.stat(path).st_mode
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            raise Refused(f"{path} is a device, not a folder: a restore never writes to a tape")
        if not stat.S_ISDIR(mode):
            raise Refused(f"{path} is not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise Refused(f"the daemon (user {user_name(os.getuid())}) may not write into folder {path}")
        if any(path.iterdir()) and not force:
            raise Refused(f"folder {path} is not empty: restore into an empty folder, or add --force to replace "
                          "what is there (every replaced file is listed)")
    elif not path.parent.is_dir():
        raise Refused(f"folder {path.parent} does not exist")
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        raise Refused(f"the daemon (user {user_name(os.getuid())}) may not create folder {path} in {path.parent}")
    return path


def member_path(root: Path, name: str) -> Path:
    """Where member `name` goes under `root`; TargetRefused when it would land outside."""
    if not name or "\0" in name:
        raise TargetRefused("an empty or invalid name")
    if name.startswith("/"):
        raise TargetRefused("an absolute path")
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if ".." in parts:
        raise TargetRefused("a '..' component leads out of the target")
    if not parts:
        raise TargetRefused("an empty name")
    path = root.joinpath(*parts)
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(path.parent)
    if os.path.commonpath([real_root, real_parent]) != real_root:
        raise TargetRefused("a symlink in the target leads out of it")
    return path


class _OpenFile:
    def __init__(self, folder: int, name: str, fd: int, temporary: str, mtime: float) -> None:
        self.folder = folder  # the descriptor of the folder it goes in
        self.name = name
        self.temporary = temporary
        self.mtime = mtime
        self.problem: str | None = None
        self.handle: IO[bytes] = os.fdopen(fd, "wb")


class FolderSink:
    """Members as files under `root`, parts joined; a file appears under its name only once every part
    has been read and has matched its sha256. The folder is opened once (TargetFolder) and everything is
    created relative to it: no path is resolved again, no symlink followed."""

    def __init__(self, root: Path, forbidden: Sequence[Path] = ()) -> None:
        self.root = root
        self.forbidden = list(forbidden)
        self.refused: list[Json] = []
        self.notes: list[str] = []
        self._open: _OpenFile | None = None
        self._folder: TargetFolder | None = None

    @property
    def satisfied(self) -> bool:
        return False

    def begin(self, member: Member, mtime: float) -> None:
        try:
            member_path(self.root, member.name)
            if self._folder is None:
                self._folder = TargetFolder(self.root, self.forbidden)
            *parents, name = [p for p in PurePosixPath(member.name).parts if p not in ("", ".")]
            folder = self._folder.folder(parents)
            mode = self._folder.existing(folder, name)
            if mode is not None and stat.S_ISDIR(mode):
                raise TargetRefused(f"a folder named {member.name} is in the target")
            fd, temporary = self._folder.new_temporary(folder, name)
        except TargetRefused as exc:
            self.refused.append({"name": member.name, "why": str(exc)})
            raise
        except OSError as exc:
            why = f"cannot be written: {exc.strerror or exc}"
            self.refused.append({"name": member.name, "why": why})
            raise TargetRefused(why) from None
        self._open = _OpenFile(folder, name, fd, temporary, mtime)

    def write(self, data: memoryview) -> None:
        assert self._open is not None
        self._open.handle.write(data)

    def piece_done(self, member: Member, piece: Piece, problem: str | None) -> None:
        if problem and self._open is not None and self._open.problem is None:
            self._open.problem = problem

    def finish(self, member: Member) -> Json:
        current, self._open = self._open, None
        assert current is not None and self._folder is not None
        problem = current.problem
        try:
            current.handle.flush()
            os.utime(current.handle.fileno(), (current.mtime, current.mtime))
        except OSError as exc:
            problem = problem or f"cannot write {member.name}: {exc.strerror}"
        with contextlib.suppress(OSError):
            current.handle.close()
        if problem is None:
            try:
                replaced = self._folder.put_in_place(current.folder, current.temporary, current.name)
            except TargetRefused as exc:
                problem = str(exc)
            except OSError as exc:
                problem = f"cannot put {member.name} in place: {exc.strerror}"
        if problem:
            self._folder.remove(current.folder, current.temporary)
            return {"name": member.name, "ok": False, "problem": problem}
        return {"name": member.name, "ok": True, "path": str(self.root.joinpath(member.name)),
                "size": member.size, "replaced": int(replaced), "replaced_paths": [member.name] if replaced else []}

    def abort(self, member: Member, reason: str) -> None:
        self._drop()

    def close(self) -> list[Json]:
        self._drop()
        if self._folder is not None:
            self._folder.close()
            self._folder = None
        return []

    def _drop(self) -> None:
        current, self._open = self._open, None
        if current is not None and self._folder is not None:
            with contextlib.suppress(OSError):
                current.handle.close()
            self._folder.remove(current.folder, current.temporary)


class FileTreeSink:
    """A file-tree archive (backup.tar.zst, .tar.gz or .tar, its parts joined) unpacked under `root` as it
    streams off the tape, optionally only the paths matching `globs`. With `expected_files` (how many files
    the file index says match), reading stops once they are all out. With `inner_skip`, the stream starts
    at a frame and that many bytes of inner tar come before the first header wanted."""

    def __init__(self, root: Path, *, globs: tuple[str, ...] = (), expected_files: int | None = None,
                 inner_skip: int = 0, forbidden: Sequence[Path] = ()) -> None:
        self.root = root
        self.inner_skip = inner_skip
        self._member_name = "backup.tar.gz"
        self.forbidden = list(forbidden)
        self._folder: TargetFolder | None = None
        self._where = root  # where tarfile writes: the open folder itself, once begin() has opened it
        self.globs = inner_globs(globs)
        self.expected_files = expected_files
        self.refused: list[Json] = []
        self.notes: list[str] = []
        self.replaced: list[str] = []
        self.failed: list[Json] = []
        self.files = 0
        self.file_bytes = 0
        self.others = 0  # folders, links
        self.refused_count = 0
        self.replaced_count = 0
        self.error: str | None = None
        self.damage: str | None = None
        self._pipe = ChunkPipe(max_chunks=PIPE_CHUNKS)
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    @property
    def satisfied(self) -> bool:
        return self._done.is_set() and self.error is None and self.expected_files is not None \
            and self.files >= self.expected_files

    def begin(self, member: Member, mtime: float) -> None:
        if self._thread is None:
            self._member_name = member.name
            self.root.mkdir(parents=True, exist_ok=True)
            self._folder = TargetFolder(self.root, self.forbidden)
            by_fd = Path(f"/proc/self/fd/{self._folder.fd}")
            if by_fd.is_dir():  # the folder opened and checked, whatever its path names later
                self._where = by_fd
            self._thread = threading.Thread(target=self._extract, name="restore-untar", daemon=True)
            self._thread.start()

    def write(self, data: memoryview) -> None:
        if not self._done.is_set():
            self._pipe.put(bytes(data))

    def piece_done(self, member: Member, piece: Piece, problem: str | None) -> None:
        if problem and self.damage is None:
            self.damage = problem
        if self.expected_files is not None and not self._done.is_set():
            # let the unpacking catch up at each piece's end, so `satisfied` says whether the next piece
            # need be read at all (whatever the two threads' timing)
            self._pipe.caught_up(timeout=30.0)

    def finish(self, member: Member) -> Json:
        self._pipe.finish()
        self._join()
        problem = self.error or self.damage
        if self.failed and not problem:
            problem = f"{len(self.failed)} file(s) could not be written, first: {self.failed[0]['name']}: " \
                      f"{self.failed[0]['why']}"
        return {"name": member.name, "ok": problem is None, "problem": problem, **self.summary()}

    def abort(self, member: Member, reason: str) -> None:
        self._pipe.fail(reason)
        self._join()

    def close(self) -> list[Json]:
        if self._thread is not None and self._thread.is_alive():
            self._pipe.fail("the restore stopped")
            self._join()
        if self._folder is not None:
            self._folder.close()
            self._folder = None
        return []

    def summary(self) -> Json:
        return {"files": self.files, "file_bytes": self.file_bytes, "folders_and_links": self.others,
                "replaced": self.replaced_count, "replaced_paths": list(self.replaced),
                "refused": self.refused_count, "failed": list(self.failed)}

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _wanted(self, name: str) -> bool:
        return not self.globs or any(fnmatch.fnmatchcase(name, g) for g in self.globs)

    def _refuse(self, name: str, why: str) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED:
            self.refused.append({"name": name, "why": why})

    def _extract(self) -> None:
        folders: list[tarfile.TarInfo] = []
        root = str(self._where)
        try:
            source = inner_tar(self._member_name, self._pipe, self.inner_skip)
            with tarfile.open(fileobj=source, mode="r|") as tar:
                for info in tar:
                    if not self._wanted(info.name):
                        continue
                    try:
                        member_path(self._where, info.name)  # absolute and '..' names are refused outright
                        safe = tarfile.data_filter(info, root)
                    except TargetRefused as exc:
                        self._refuse(info.name, str(exc))
                        continue
                    except tarfile.FilterError as exc:
                        self._refuse(info.name, str(exc))
                        continue
                    self._extract_one(tar, info, safe, folders)
                    if self.expected_files is not None and self.files >= self.expected_files:
                        break
        except PipeFailed as exc:
            self.error = f"the archive was not read to its end: {exc}"
        except (tarfile.TarError, EOFError, zlib.error, zstandard.ZstdError, OSError) as exc:
            self.error = f"the archive cannot be read: {exc}"
        finally:
            self._done.set()
            self._pipe.close_reader()
            for folder in reversed(folders):
                path = self._where / folder.name
                with contextlib.suppress(OSError):
                    os.utime(path, (folder.mtime, folder.mtime))
                    if folder.mode is not None:
                        os.chmod(path, folder.mode)

    def _extract_one(self, tar: tarfile.TarFile, info: tarfile.TarInfo, safe: tarfile.TarInfo,
                     folders: list[tarfile.TarInfo]) -> None:
        dest = self._where / safe.name
        existed = not safe.isdir() and (dest.exists() or dest.is_symlink())
        try:
            tar.extract(info, self._where, set_attrs=not info.isdir(), filter="data")
        except tarfile.FilterError as exc:
            self._refuse(info.name, str(exc))
            return
        except (OSError, tarfile.ExtractError) as exc:
            self._remove_partial(safe, dest)
            if len(self.failed) < MAX_LISTED:
                self.failed.append({"name": info.name, "why": str(exc)})
            return
        except BaseException:  # the archive broke off inside this file: what was written is not the file
            self._remove_partial(safe, dest)
            raise
        if existed:
            self.replaced_count += 1
            if len(self.replaced) < MAX_LISTED:
                self.replaced.append(info.name)
        if safe.isdir():
            folders.append(safe)
        elif safe.isreg():
            self.files += 1
            self.file_bytes += safe.size
        else:
            self.others += 1

    @staticmethod
    def _remove_partial(safe: tarfile.TarInfo, dest: Path) -> None:
        """A regular file that was not written whole does not stay under its real name."""
        if not safe.isreg():
            return
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(dest).st_mode):
                os.unlink(dest)
