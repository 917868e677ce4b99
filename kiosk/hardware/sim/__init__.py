"""Built-in simulators behind `sim://NAME`: each module here registers its device's simulator
with `kiosk.hardware.transport.register_simulator` when imported; all are imported here."""
import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
