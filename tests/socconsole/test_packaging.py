"""Every app of the project is in the image and in the installed package."""

import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]


def local_apps():
    return sorted({a.name.split(".")[0] for a in apps.get_app_configs()
                   if Path(a.path).resolve().parent == ROOT})


def test_the_image_copies_every_app():
    dockerfile = (ROOT / "Dockerfile").read_text()
    missing = [name for name in local_apps() if f"COPY {name} ./{name}" not in dockerfile]
    assert not missing, f"Dockerfile does not COPY {missing}"


def test_the_package_includes_every_app():
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]
    assert set(local_apps()) <= {pattern.rstrip("*") for pattern in include}
