"""The recorded daemon answers (tests/console/data) as an Inventory and a SiteNow, to ask the engine's
rotation about them: the swap list the daemon would have served that morning."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.config.loading import embedded_default_path, load_config
from console.config.schema import Config, PoolConfig
from console.engine.inventory import Inventory
from console.engine.rotation.inputs import SiteNow

IDLE = ("idle", "no-tape", "error")


def inventory_from(answers: dict[str, Any], folder: Path, now: datetime) -> Inventory:
    folder.mkdir(parents=True, exist_ok=True)
    inventory = Inventory(folder / "inventory.json", clock=lambda: now)
    inventory.sync_pools([PoolConfig(p["name"], p["generation"], p["retention_days"], p["allocation"], p["vault"])
                          for p in answers["/pools"]])
    for tape in answers["/tapes"]:
        inventory.register_cartridge(tape["barcode"], tape["generation"], tape["capacity"], tape["location"])
        inventory.update_tape(tape["barcode"], **{k: v for k, v in tape.items()
                                                  if k not in ("barcode", "expires", "state")})
    return inventory


def site_from(answers: dict[str, Any], folder: Path, now: datetime, *, config: Config | None = None,
              held: Mapping[str, str] | None = None) -> SiteNow:
    """The site as the recording shows it (the embedded default's jobs unless `config` is given)."""
    busy = {d["name"]: d["state"] for d in answers["/drives"] if d["state"] not in IDLE}
    return SiteNow.from_inventory(inventory_from(answers, folder, now), config or load_config(embedded_default_path()),
                                  runs=answers["/runs"], busy_drives=busy, held=held)


RECORDED_AT = {  # when each recording's /swap-list is asked: the morning after night two, and during night two
    "morning": datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
    "streaming": datetime(2026, 11, 26, 20, 0, 30, tzinfo=UTC),
}


def add_swap_lists() -> None:
    """Give the recordings made before the daemon had GET /v1/swap-list the answer it gives for their state
    (tests/console/record.py records it from the daemon itself from now on)."""
    import json
    import tempfile

    from console.engine.rotation.swap_list import build_swap_list
    from tests.console.fake_daemon import DATA

    for name, now in RECORDED_AT.items():
        path = DATA / f"{name}.json"
        answers = json.loads(path.read_text())
        with tempfile.TemporaryDirectory() as folder:
            answers["/swap-list"] = build_swap_list(site_from(answers, Path(folder), now)).to_json()
        path.write_text(json.dumps(answers, indent=1) + "\n")
        print(f"{path}: /swap-list added")


if __name__ == "__main__":
    add_swap_lists()
