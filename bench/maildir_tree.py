"""A generated maildir-like tree for the many-small-files benchmark: N mails of 1-16 KiB in user folders.

    .venv/bin/python bench/maildir_tree.py /tmp/tc-maildir [--files 500000]

Made once and reused (a `.complete` file marks it done). Mail-like text: headers and bodies cut from a
vocabulary, so it compresses about as real mail does.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = (
    "backup", "tape", "restore", "invoice", "meeting", "offsite", "vault", "pool", "quarterly", "report", "mail",
    "share", "the", "and", "of", "to", "in", "is", "for", "on", "with", "as", "was", "at", "by", "project",
    "budget", "order", "delivery", "customer", "please", "regards", "thanks", "attached", "schedule", "monday",
    "friday", "review", "update", "contract", "payment", "account", "team", "office",
)
USERS = 200


def make_maildir(root: Path, files: int = 500_000, seed: int = 3) -> Path:
    marker = root / ".complete"
    if marker.exists() and marker.read_text().strip() == str(files):
        return root
    rng = random.Random(seed)
    text = " ".join(rng.choice(WORDS) for _ in range(400_000)).encode()  # cut into bodies below
    for n in range(files):
        user = f"user{n % USERS:03d}"
        folder = root / "mail" / user / "Maildir" / ("cur" if n % 5 else "new")
        if n < USERS * 2:
            folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(1024, 16 * 1024)
        head = (f"From: {user}@example.lan\nTo: office@example.lan\nSubject: {rng.choice(WORDS)} "
                f"{rng.choice(WORDS)} {n}\nMessage-ID: <{n}@example.lan>\n\n").encode()
        start = rng.randrange(0, len(text) - size)
        with open(folder / f"{1700000000 + n}.{n}.{user}:2,S", "wb") as f:
            f.write((head + text[start:start + size])[:size])
    marker.write_text(str(files))
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--files", type=int, default=500_000)
    args = parser.parse_args()
    make_maildir(args.root, args.files)
    print(f"{args.root}: {args.files} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
