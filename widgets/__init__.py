"""The console's reusable widgets. They reach the running app only through widgets/console_host.py's
protocol, never by importing it."""
