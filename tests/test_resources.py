"""Where the shipped models and emoji are found: a checkout, a venv, a ``pip install --user``."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from types import SimpleNamespace

import pytest

from emojify import resources


class InstalledFile(PurePosixPath):
    """A file of an installed distribution's list, as ``importlib.metadata`` gives it: relative to
    ``site-packages``, located through ``locate()``."""

    site: Path

    def locate(self) -> Path:
        return self.site / self


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """emojify installed into ``site`` with its data files in ``data``/share/emojify, and a
    ``sys.prefix`` that holds none of them; returns (site, data root)."""
    from importlib import metadata

    def install(data: Path) -> tuple[Path, Path]:
        site = tmp_path / "lib" / "python3" / "site-packages"
        (site / "emojify").mkdir(parents=True)
        for name in ("model", "emojis"):
            (data / "share" / "emojify" / name).mkdir(parents=True)
        (data / "share" / "emojify" / "emojis" / "emojis.json").write_text("{}")
        InstalledFile.site = site
        files = [InstalledFile("emojify/__init__.py"),
                 InstalledFile(Path("..", "..", "..", *data.relative_to(tmp_path).parts, "share/emojify/emojis/emojis.json")
                               .as_posix())]
        monkeypatch.setattr(metadata, "distribution", lambda name: SimpleNamespace(files=files))
        monkeypatch.setattr(resources, "PACKAGE_DIR", site / "emojify")
        monkeypatch.setattr(resources.sys, "prefix", str(tmp_path / "empty-prefix"))
        resources.installed_data_root.cache_clear()
        return site, data / "share" / "emojify"

    yield install
    resources.installed_data_root.cache_clear()


def test_a_user_install_finds_its_data_in_the_users_folder(tmp_path: Path, installed) -> None:
    """``pip install --user`` puts the data files under the user's base, not ``sys.prefix``."""
    _, data = installed(tmp_path / "home" / ".local")
    assert resources.resource_dir("model") == data / "model"
    assert resources.resource_dir("emojis") == data / "emojis"


def test_a_model_folder_in_site_packages_is_not_taken_for_ours(tmp_path: Path, installed) -> None:
    """Above an installed package is ``site-packages``: a ``model/`` there is another package's."""
    site, data = installed(tmp_path / "venv")
    (site / "model").mkdir()
    assert resources.resource_dir("model") == data / "model"


def test_the_checkout_comes_first() -> None:
    assert resources.resource_dir("model") == Path(__file__).resolve().parents[1] / "model"


def test_a_checkout_finds_its_data_without_reading_the_installed_file_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed file list is read from disk (every installed package's metadata may be
    searched): a checkout, found first, does not pay for it at start."""
    from importlib import metadata

    asked = []
    monkeypatch.setattr(metadata, "distribution", lambda name: asked.append(name) or metadata.Distribution())
    resources.installed_data_root.cache_clear()
    try:
        assert resources.resource_dir("emojis") == Path(__file__).resolve().parents[1] / "emojis"
    finally:
        resources.installed_data_root.cache_clear()
    assert asked == []


def test_where_nothing_is_found_the_error_names_every_place_looked(tmp_path: Path, installed) -> None:
    _, data = installed(tmp_path / "venv")
    with pytest.raises(FileNotFoundError) as info:
        resources.resource_dir("fonts")
    assert str(info.value) == (f"no fonts/ folder found (looked in {data / 'fonts'}, "
                               f"{tmp_path / 'empty-prefix' / 'share' / 'emojify' / 'fonts'})")
