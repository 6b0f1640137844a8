"""Keeping the emulator's state in a file across restarts (``--state-file``): the run command's demo
Intercom must not forget the contacts and tokens it received. Tests leave it off (in memory only).

The state is written atomically (a temporary file, then a rename) at most once a second after a write
request, and on shutdown; a killed emulator loses at most the last second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from emulators.intercom.store import State

logger = logging.getLogger(__name__)

SAVE_EVERY_SECONDS = 1.0


def load(path: Path) -> State | None:
    """The state saved in `path`, or None when there is none or it cannot be read (then start afresh)."""
    try:
        with path.open("rb") as file:
            state = pickle.load(file)  # noqa: S301 - our own file, written by `save` below
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a damaged file must not keep the emulator down
        logger.warning("could not read the emulator state in %s; starting afresh", path, exc_info=True)
        return None
    return state if isinstance(state, State) else None


def save(state: State, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            pickle.dump(state, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class Saver:
    """Saves the emulator's state when something changed (`touch`), from the event loop."""

    def __init__(self, emulator, path: Path):
        self.emulator, self.path = emulator, path
        self.changed = False
        self._task: asyncio.Task | None = None

    def touch(self) -> None:
        self.changed = True

    def save_now(self) -> None:
        self.changed = False
        save(self.emulator.state, self.path)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_SECONDS)
            if self.changed:
                try:
                    self.save_now()
                except Exception:  # noqa: BLE001 - try again at the next change
                    logger.warning("could not save the emulator state to %s", self.path, exc_info=True)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.save_now()
