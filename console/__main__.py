"""python -m console: the tapeconsole command."""

from console.cli.main import main

raise SystemExit(main())
