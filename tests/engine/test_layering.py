"""The engine never imports textual: it must run headless in the daemon."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import console.engine

ROOT = Path(__file__).resolve().parents[2]


def test_engine_imports_without_textual() -> None:
    modules = sorted(
        m.name for m in pkgutil.walk_packages(console.engine.__path__, prefix="console.engine.")
        if not m.name.endswith(".st")  # the st backend needs Linux ioctls only; imported where configured
    )
    assert "console.engine.daemon.service" in modules
    script = (
        "import sys, importlib\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'textual' or name.startswith('textual.'):\n"
        "            raise ImportError('engine imported ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "assert not any(k.startswith('textual') for k in sys.modules)\n"
        "print('ok', len(sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
