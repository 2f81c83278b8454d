"""A fake Xen Orchestra for tests and the demo: a real HTTP server answering like XO's /rest/v0, synthetic
VHDs (vhdgen) and XO backup-remote trees (remote_tree).

Entry points: `start_xosim_in_thread(seed=...)` (tests, embedded demo) and `run_xosim(...)` (the
`tapeconsole xosim` command), both in console.demo.xo_simulator.server.
"""

from console.demo.xo_simulator.server import XoSimHandle, run_xosim, start_xosim_in_thread, write_token_file
from console.demo.xo_simulator.sim import ImportRecord, SimSettings, XoSim

__all__ = [
    "ImportRecord",
    "SimSettings",
    "XoSim",
    "XoSimHandle",
    "run_xosim",
    "start_xosim_in_thread",
    "write_token_file",
]
