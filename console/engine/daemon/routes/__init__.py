"""The API's route modules, one per concern; api.py mounts them all (none of them imports it)."""
