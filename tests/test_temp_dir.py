"""The start stops with one line when the temporary directory cannot take what the service writes."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from py3langid import langid

from service import check_config, temp_dir
from service.pipeline import language
from service.settings import ConfigError

MiB = 2**20


def _free_space(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    """The disk reports ``free`` bytes free (a 40 MiB tmpfs, without mounting one)."""
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(free, 0, free))


def test_a_directory_with_room_passes(tmp_path: Path) -> None:
    temp_dir.check(str(tmp_path))


@pytest.mark.parametrize("name", ["missing", "a-file"])
def test_a_directory_that_takes_no_file_stops_the_start(tmp_path: Path, name: str) -> None:
    (tmp_path / "a-file").touch()
    with pytest.raises(ConfigError, match=r"temporary directory .* takes no file .*256 MiB"):
        temp_dir.check(str(tmp_path / name))


def test_no_usable_temporary_directory_stops_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docker run --read-only without a tmpfs: gunicorn printed tempfile's traceback (s20 audit)."""
    (tmp_path / "file").touch()
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile looks again, and finds nowhere to write
    monkeypatch.setattr(tempfile, "_candidate_tempdir_list", lambda: [str(tmp_path / "file")])
    with pytest.raises(ConfigError, match="no writable temporary directory"):
        temp_dir.check()


def test_too_little_room_for_the_language_model_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 40 MiB /tmp: every fork server died on "No space left on device" for a minute (s20 audit)."""
    _free_space(monkeypatch, 40 * MiB)
    with pytest.raises(ConfigError, match=f"{tmp_path} has 40 MiB free, 81 MiB needed"):
        temp_dir.check(str(tmp_path))


def test_once_the_model_is_unpacked_little_room_is_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp_dir.langid_model_copy(str(tmp_path)).touch()
    _free_space(monkeypatch, 40 * MiB)
    temp_dir.check(str(tmp_path))


def test_check_config_says_it_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _free_space(monkeypatch, 40 * MiB)
    assert check_config.main([]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_model_size_is_what_py3langid_unpacks(tmp_path: Path) -> None:
    copy = temp_dir.langid_model_copy()
    if not copy.exists():
        copy = tmp_path / "model.npz"
        language._decompress_to(Path(langid.MODEL_DIR) / langid.MODEL_FILE, copy)
    assert copy.stat().st_size == pytest.approx(temp_dir.LANGID_MODEL_BYTES, rel=0.02)


@pytest.fixture
def own_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp dir of the test's own, and a langid that loads its model again (restored after)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(langid, "IDENTIFIER", None)
    return tmp_path


def test_the_model_copy_is_made_once_per_version_and_older_ones_go(own_temp_dir: Path) -> None:
    # Named after the model file's time, every reinstall of py3langid left another 68 MB copy.
    stale = own_temp_dir / f"{temp_dir.LANGID_COPY_PREFIX}4586720-1796593993.npz"
    stale.write_bytes(b"old")
    language.load_identifier()
    assert langid.IDENTIFIER is not None
    assert [path.name for path in own_temp_dir.iterdir()] == [temp_dir.langid_model_copy().name]
    version = importlib.metadata.version("py3langid")
    assert temp_dir.langid_model_copy().name.startswith(f"{temp_dir.LANGID_COPY_PREFIX}{version}-")


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user takes root")
def test_a_copy_another_user_made_is_not_read(own_temp_dir: Path) -> None:
    # The temp dir is shared: another user could plant a model of their own making there.
    planted = temp_dir.langid_model_copy()
    language._decompress_to(Path(langid.MODEL_DIR) / langid.MODEL_FILE, planted)
    os.chown(planted, 12345, 12345)
    language.load_identifier()
    assert langid.IDENTIFIER is None  # py3langid loads its own packaged model when first used
