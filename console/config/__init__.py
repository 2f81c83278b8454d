"""config.toml: the typed records (schema.py), reading and checking the file (loading.py), the one-line
errors naming file, line and key (errors.py), and the embedded default (default_config.toml)."""
