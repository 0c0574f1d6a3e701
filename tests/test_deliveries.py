"""A delivery waiting beside the landing folder (`survey ingest`): promoted, rolled back byte for byte, and,
after a command killed at any point of its promotion, finished by the next command with nothing lost."""

from __future__ import annotations

import pathlib
import shutil

import pytest

from home.deliveries import recover_deliveries, stage_delivery

SURVEY_ID = "improvement-journey"


@pytest.fixture
def home(tmp_path):
    wave_dir = tmp_path / "landing" / SURVEY_ID / "2024"
    wave_dir.mkdir(parents=True)
    (wave_dir / "wave.yaml").write_bytes(b"# team notes\r\nlayout: plain_csv\r\n")
    return tmp_path


def _deliver(home, name: str, content: bytes):
    source = home / "outside" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(content)
    return stage_delivery(source, home / "landing" / SURVEY_ID / "2024", b"fieldwork_start: 2024-09-02\n")


def _files(folder: pathlib.Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("old, new", [("old.csv", "new.csv"), ("wave.csv", "wave.csv")])
@pytest.mark.parametrize("killed_at", ["moving the old file out", "moving the new file in", "removing the pending folder"])
def test_a_promotion_killed_anywhere_is_finished_by_the_next_command(home, monkeypatch, old, new, killed_at):
    wave_dir = home / "landing" / SURVEY_ID / "2024"
    (wave_dir / old).write_bytes(b"old bytes")
    delivery = _deliver(home, new, b"new bytes")
    archive = home / "archive" / SURVEY_ID / "2024"

    class Killed(BaseException):
        pass

    def kill(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch:
        if killed_at == "moving the old file out":
            patch.setattr(shutil, "move", kill)
        elif killed_at == "moving the new file in":
            real = pathlib.Path.replace
            patch.setattr(pathlib.Path, "replace",
                          lambda self, target: kill() if pathlib.Path(target).parent == wave_dir else real(self, target))
        else:
            patch.setattr(shutil, "rmtree", kill)
        with pytest.raises(Killed):
            delivery.promote(archive)

    done = recover_deliveries(home / "landing", home / "archive", SURVEY_ID)

    assert done == [f"{SURVEY_ID}/2024: finished promoting an interrupted delivery"]
    assert _files(wave_dir) == {new: b"new bytes", "wave.yaml": b"fieldwork_start: 2024-09-02\n"}
    [replaced] = archive.glob("replaced-*")
    assert _files(replaced) == {old: b"old bytes"}


def test_a_delivery_killed_before_its_promotion_is_rolled_back_byte_for_byte(home):
    wave_dir = home / "landing" / SURVEY_ID / "2024"
    (wave_dir / "old.csv").write_bytes(b"old bytes")
    before = _files(wave_dir)
    _deliver(home, "new.csv", b"new bytes")
    assert _files(wave_dir)["wave.yaml"] == b"fieldwork_start: 2024-09-02\n"  # written, journaled

    assert recover_deliveries(home / "landing", home / "archive", SURVEY_ID) == [
        f"{SURVEY_ID}/2024: rolled back an interrupted delivery"]
    assert _files(wave_dir) == before  # CRLF and comment included
    assert not (home / "archive").exists()


def test_the_same_bytes_delivered_again_are_not_copied_and_a_committed_delivery_stays(home):
    wave_dir = home / "landing" / SURVEY_ID / "2024"
    (wave_dir / "landed.csv").write_bytes(b"same bytes")
    delivery = _deliver(home, "again.csv", b"same bytes")
    assert delivery.same_as == "landed.csv" and delivery.files == []
    delivery.commit()
    assert _files(wave_dir) == {"landed.csv": b"same bytes", "wave.yaml": b"fieldwork_start: 2024-09-02\n"}
    assert recover_deliveries(home / "landing", home / "archive", SURVEY_ID) == []


def test_another_surveys_delivery_under_way_is_left_to_its_own_command(home):
    """Surveys refresh side by side: a command settling its survey's deliveries never touches another survey's,
    which may be a delivery another process is making right now."""
    _deliver(home, "new.csv", b"new bytes")
    pending = sorted((home / "landing" / SURVEY_ID / "2024").glob(".*"))
    assert pending  # a delivery waiting beside the board survey's wave

    assert recover_deliveries(home / "landing", home / "archive", "staff-pulse") == []

    assert sorted((home / "landing" / SURVEY_ID / "2024").glob(".*")) == pending  # untouched
    assert recover_deliveries(home / "landing", home / "archive", SURVEY_ID) == [
        f"{SURVEY_ID}/2024: rolled back an interrupted delivery"]
