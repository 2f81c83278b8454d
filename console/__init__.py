"""tapeconsole: an operator console for LTO tape backups of a Xen Orchestra pool and its file servers.

Dependencies point one way (tests/engine/test_import_graph.py keeps it so):

    cli, tui  ->  widgets  ->  client  ->  config, wire
    engine (the daemon)     ->  config, wire, demo

- wire/    the vocabulary the daemon and its clients share: states, swap-list records, LTO facts, units
- config/  config.toml: its records (schema) and reading and checking the file (loading)
- engine/  the daemon: drives, tape format, pipeline, sources, inventory, jobs, restore, rotation, planning
- client/  the console's side of the socket: the daemon client, the poller, what restore answers mean
- tui/     the Textual app, its screens and the operator's actions
- cli/     the `tapeconsole` command
- demo/    the built-in Xen Orchestra simulator and the demo file tree (the embedded default and the tests)
"""
