"""The wheel carries the compiled catalogs: build_py compiles each kiosk.po to its kiosk.mo.

Everything else is in pyproject.toml. The .po files stay out of the wheel, so an
installed kiosk has nothing to hold its .mo files' age against.
"""
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the source tree's, from `make setup`
            return
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from kiosk.i18n import compile_catalogs

        for mo in compile_catalogs(out_dir=Path(self.build_lib) / "kiosk" / "locale"):
            print(f"compiled {mo}")


setup(cmdclass={"build_py": BuildPyWithCatalogs})
