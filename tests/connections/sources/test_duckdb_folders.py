"""Which DuckDB files a workspace may open: under the data folder but not in another workspace's uploads
(team hosting), or only its own uploads (shared hosting). A refusal reads the same whether or not anything
exists at the path."""

from pathlib import Path

import duckdb
import pytest

from apps.connections.sources.duckdb import DuckDbFolders
from apps.connections.sources.errors import InvalidSourceConfig
from apps.connections.sources.registry import open_source


def make_duckdb(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS id")
    return path


@pytest.fixture
def disk(tmp_path):
    """data/ with a shared file, this workspace's folder (7), another workspace's (8), and a file outside."""
    data = tmp_path / "data"
    return {
        "data": data,
        "own": data / "workspaces" / "7",
        "shared_file": make_duckdb(data / "team.duckdb"),
        "own_file": make_duckdb(data / "workspaces" / "7" / "mine.duckdb"),
        "other_file": make_duckdb(data / "workspaces" / "8" / "theirs.duckdb"),
        "outside_file": make_duckdb(tmp_path / "elsewhere" / "outside.duckdb"),
    }


def source(path, disk, *, own_only):
    folders = DuckDbFolders(data=disk["data"], own=disk["own"], own_only=own_only)
    return open_source("duckdb", {"path": str(path)}, duckdb_folders=folders)


def refusal(path, disk, *, own_only) -> str:
    with pytest.raises(InvalidSourceConfig) as refused:
        source(path, disk, own_only=own_only).test()
    return str(refused.value)


@pytest.mark.parametrize("own_only", [False, True], ids=["team", "shared"])
def test_the_workspace_opens_its_own_files_by_name_or_path(disk, own_only):
    assert source("mine.duckdb", disk, own_only=own_only).test()
    assert source(disk["own_file"], disk, own_only=own_only).test()


@pytest.mark.parametrize("own_only", [False, True], ids=["team", "shared"])
@pytest.mark.parametrize("where", ["other workspace", "elsewhere", "dot-dot", "link"])
def test_a_file_outside_the_workspace_is_refused_and_the_refusal_tells_nothing_about_the_disk(
    disk, own_only, where
):
    own, other, outside = disk["own"], disk["own"].parent / "8", disk["outside_file"].parent
    (own / "link.duckdb").symlink_to(disk["outside_file"])
    (own / "dangling.duckdb").symlink_to(outside / "nothing.duckdb")
    existing, missing = {
        "other workspace": (disk["other_file"], other / "nothing.duckdb"),
        "elsewhere": (disk["outside_file"], outside / "nothing.duckdb"),
        "dot-dot": (Path("..") / "8" / "theirs.duckdb", Path("..") / "8" / "nothing.duckdb"),
        "link": (own / "link.duckdb", own / "dangling.duckdb"),
    }[where]
    message = refusal(existing, disk, own_only=own_only)
    assert refusal(missing, disk, own_only=own_only) == message  # the same words: nothing is revealed
    assert str(existing) not in message and "exist" not in message


def test_team_hosting_opens_files_anywhere_in_the_data_folder_but_shared_hosting_does_not(disk):
    assert source(disk["shared_file"], disk, own_only=False).test()
    message = refusal(disk["shared_file"], disk, own_only=True)
    assert message.startswith("Upload the DuckDB file: this Syncline installation opens only files uploaded")


def test_the_team_refusal_says_where_files_may_be(disk):
    message = refusal(disk["outside_file"], disk, own_only=False)
    assert f"inside its data folder, {disk['data'].resolve()} (DUCKDB_DATA_DIR)" in message


def test_special_duckdb_names_are_files_in_the_folder_not_databases(disk):
    """ ":memory:" or "md:…" (MotherDuck) would open something other than a file; here they are file names."""
    for name in (":memory:", "md:my_db"):
        with pytest.raises(Exception, match="There is no DuckDB database file"):
            source(name, disk, own_only=True).test()
