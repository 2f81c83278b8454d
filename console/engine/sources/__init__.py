"""Where backup data comes from: XO's REST exports (xo, xo_client), an XO backup remote (xo_remote) and
file trees (files)."""
