"""The fill of a tape being written: the inventory's bytes plus the running set's, one number for every pane."""

from console.client.live_tape import used_now, with_used_now

TAPE = {"barcode": "DEM001L5", "label": "NIGHTLY-1", "bytes_used": 262144, "capacity": 10 << 30}


def test_a_tape_being_written_counts_the_running_set() -> None:
    running = {"state": "running", "tape": "NIGHTLY-1", "set_bytes": 2 << 30}
    assert used_now(TAPE, [running]) == 262144 + (2 << 30)
    assert used_now(TAPE, [{**running, "tape": "OTHER"}]) == 262144
    assert used_now(TAPE, [{**running, "state": "done"}]) == 262144
    assert used_now(TAPE, [{**running, "set_bytes": 20 << 30}]) == 10 << 30  # never past the capacity
    [shown] = with_used_now([TAPE], [running])
    assert shown["bytes_used"] == 262144 + (2 << 30) and TAPE["bytes_used"] == 262144
    assert with_used_now([TAPE], [])[0] is TAPE
