"""Summarize a HIL run's results folder (JUnit XML from the guest) into summary.txt, and print it.

python hil/summarize.py RESULTS_DIR [--total SECONDS]
"""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

RUNS = {
    "hil": "tests/hil inside the guest",
    "contract": "drive contract suite (tests/drives) on the kernel st driver, /dev/nst0 and /dev/nst1",
}


def outcome(case: ET.Element) -> tuple[str, str]:
    """(passed | failed | error | skipped | xfailed, message) of one <testcase>."""
    for tag, name in (("failure", "failed"), ("error", "error")):
        element = case.find(tag)
        if element is not None:
            return name, element.get("message", "")
    skipped = case.find("skipped")
    if skipped is not None:
        kind = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
        return kind, skipped.get("message", "")
    return "passed", ""


def summarize_run(name: str, results: Path) -> list[str]:
    report = results / f"{name}.xml"
    if not report.exists():
        return [f"{name} ({RUNS.get(name, name)}): no report (the guest did not get that far)"]
    counts: Counter[str] = Counter()
    details: list[str] = []
    for case in ET.parse(report).getroot().iter("testcase"):
        kind, message = outcome(case)
        counts[kind] += 1
        if kind != "passed":
            first_line = message.strip().splitlines()[0] if message.strip() else ""
            details.append(f"    {kind}: {case.get('name')}  {first_line[:160]}")
    timing = ""
    rc_file = results / f"{name}.rc"
    if rc_file.exists():
        rc, begin, end = rc_file.read_text().split()
        timing = f"; pytest exit {rc}, {float(end) - float(begin):.1f} s"
    order = ("passed", "failed", "error", "xfailed", "skipped")
    figures = ", ".join(f"{counts[kind]} {kind}" for kind in order if counts[kind] or kind == "passed")
    return [f"{name} ({RUNS.get(name, name)}): {figures}{timing}", *sorted(details)]


def summarize(results: Path, total: float | None) -> str:
    boot = results / "boot-seconds"
    head = "HIL run:"
    if boot.exists():
        head += f" guest booted in {float(boot.read_text()):.1f} s"
    if total is not None:
        head += f"; whole run {total:.0f} s"
    lines = [head]
    for name in RUNS:
        lines.extend(summarize_run(name, results))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--total", type=float, default=None, help="seconds the whole run took")
    args = parser.parse_args()
    text = summarize(args.results, args.total)
    (args.results / "summary.txt").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
