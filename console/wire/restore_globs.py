"""How a restore request's member globs select files inside a file-tree archive (daemon and console alike)."""

from __future__ import annotations


def inner_globs(globs: tuple[str, ...]) -> list[str]:
    """Each glob, and the same as a folder: 'share/dept0' selects the folder and everything in it."""
    out: list[str] = []
    for glob in globs:
        glob = glob.lstrip("/")
        out += [glob, glob.rstrip("/") + "/*"]
    return out
