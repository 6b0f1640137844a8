"""DuckDB files on Syncline's disk: the data folder (settings.DUCKDB_DATA_DIR), one upload folder per
workspace inside it, and what a workspace may open (README, "Hosting mode")."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename

from apps.common.hosting import shared_hosting
from apps.connections.sources.duckdb import DuckDbFolders

# A DuckDB database file says so at bytes 8–11 of its first block.
_MAGIC_OFFSET, _MAGIC = 8, b"DUCK"


def workspace_folder(workspace_id: int) -> Path:
    """Where a workspace's uploaded DuckDB files live (and the demo warehouse of the demo workspace)."""
    return Path(settings.DUCKDB_DATA_DIR) / "workspaces" / str(workspace_id)


def duckdb_folders(workspace_id: int) -> DuckDbFolders:
    return DuckDbFolders(
        data=Path(settings.DUCKDB_DATA_DIR), own=workspace_folder(workspace_id), own_only=shared_hosting()
    )


def duckdb_upload_problem(upload: UploadedFile) -> str | None:
    """Why an uploaded file cannot be a DuckDB database, in words for the upload field; None if it can."""
    limit = settings.DUCKDB_UPLOAD_MAX_MB
    if upload.size > limit * 1024 * 1024:
        return f"The file is larger than {limit:,} MB, the most this installation accepts."
    upload.seek(0)
    head = upload.read(_MAGIC_OFFSET + len(_MAGIC))
    upload.seek(0)
    if head[_MAGIC_OFFSET:] != _MAGIC:
        return (
            "This is not a DuckDB database file. Upload the .duckdb file itself, not a CSV or Parquet file."
        )
    return None


def duckdb_upload_save(*, workspace_id: int, upload: UploadedFile) -> str:
    """Store an upload in the workspace's folder under a new name and return that name, the path a
    connection stores (relative paths are files in the workspace's folder)."""
    folder = workspace_folder(workspace_id)
    folder.mkdir(parents=True, exist_ok=True)
    stem = get_valid_filename(Path(upload.name or "").stem)[:60] or "warehouse"
    # A new name for every upload: a connection keeps reading its file until it is saved with the new one.
    name = f"{stem}-{secrets.token_hex(4)}.duckdb"
    with open(folder / name, "xb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return name


def duckdb_upload_discard(*, workspace_id: int, name: str) -> None:
    """Remove an upload that no connection was saved with (its connection test failed)."""
    path = (workspace_folder(workspace_id) / name).resolve()
    if path.parent == workspace_folder(workspace_id).resolve():
        path.unlink(missing_ok=True)
