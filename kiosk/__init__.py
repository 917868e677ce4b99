"""Self-service kiosks for 24-hour government service halls."""
from importlib import metadata

try:
    __version__ = metadata.version("kiosk")
except metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
