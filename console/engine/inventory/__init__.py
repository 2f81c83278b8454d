"""The inventory: tapes, pools, drives and the audit trail, in TinyDB with crash-safe writes."""

from console.engine.inventory.inventory import Inventory, InventoryError
from console.engine.inventory.storage import AtomicJSONStorage

__all__ = ["AtomicJSONStorage", "Inventory", "InventoryError"]
