"""The morning summary takes its "take offsite" and "bring back" from the swap list."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

from console.config.schema import NotifyConfig
from console.engine.notify import Notifier
from console.engine.rotation.inputs import SiteNow
from console.engine.rotation.swap_list import build_swap_list
from tests.console.fake_daemon import recording
from tests.rotation.recorded import inventory_from
from tests.rotation.test_swap_list import scheduled


def test_the_morning_summary_says_what_to_take_offsite_and_what_to_bring_back(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    for t in answers["/tapes"]:
        if t["barcode"] == "DEM001L5":
            t["location"] = "offsite:offsite-vault"
    now = datetime(2026, 11, 27, 7, tzinfo=UTC)
    inventory = inventory_from(answers, ram_path, now)
    site = SiteNow.from_inventory(inventory, scheduled(nights=14), runs=answers["/runs"])
    out = ram_path / "mail.txt"
    config = NotifyConfig(events=("morning-summary",), command=f"cat > {out}", mail_to=(), mail_from="tc@backup01",
                          smtp_host="localhost", smtp_port=25, smtp_starttls=False, smtp_user=None,
                          smtp_password_file=None, waiting_minutes=30, summary_at="07:00")
    notifier = Notifier(config, inventory, clock=lambda: now.timestamp(), hostname="backup01",
                        swap_list=lambda: build_swap_list(site).to_json())
    text = notifier.morning_summary()
    assert out.read_text() == text
    assert text.endswith(
        "Take offsite:\n"
        "  DEM002L5 (DEM002L5, pool vdi-daily) -> offsite-vault\n"
        "  DEM102L4 (DEM102L4, pool files-daily) -> offsite-vault\n"
        "\n"
        "Bring back (the next 14 nights):\n"
        "  DEM001L5 (DEM001L5, pool vdi-daily) from offsite-vault, for the night of 2026-12-10 (nightly-vdi)\n"
        "  No tape for nightly-vdi on the night of 2026-12-01 to 2026-12-09 (9 nights): no usable LTO-5 tape of "
        "pool vdi-daily here: 6 are kept until 2026-12-10 or later; no usable blank LTO-5 tape\n"
        "  No tape for nightly-files on the night of 2026-12-01 to 2026-12-09 (9 nights): no usable LTO-4 tape of "
        "pool files-daily here: 6 are kept until 2026-12-10 or later; no usable blank LTO-4 tape\n")
    assert notifier.sent == [("morning-summary", "[tapeconsole backup01] night: 0 of 0 runs done, "
                                                 "2 tape(s) to take offsite, 1 to bring back")]


def test_without_a_swap_list_the_summary_still_goes_out(ram_path: Path) -> None:
    """A swap list that fails (a bug, a broken config) costs the "bring back" part, never the summary."""
    now = datetime(2026, 11, 27, 7, tzinfo=UTC)
    inventory = inventory_from(recording("morning"), ram_path, now)
    config = NotifyConfig(events=("morning-summary",), command="true", mail_to=(), mail_from="tc@backup01",
                          smtp_host="localhost", smtp_port=25, smtp_starttls=False, smtp_user=None,
                          smtp_password_file=None, waiting_minutes=30, summary_at="07:00")

    def broken() -> dict:
        raise RuntimeError("no swap list today")

    text = Notifier(config, inventory, clock=lambda: now.timestamp(), swap_list=broken).morning_summary()
    assert "Take offsite:" in text and "Bring back" not in text
