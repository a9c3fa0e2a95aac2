"""Atomic output: write to a temporary sibling (a file or a whole folder), then rename over the
target.

A reader never sees a half-written file, and an error or Ctrl-C leaves nothing behind: the
temporary file is removed and any earlier file at the target is kept as it was.  ``os.replace``
is atomic on POSIX when source and target are on one file system, hence the sibling.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from leotwin.errors import InputError


def _check_target(target: Path, option: str) -> Path:
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError(f"'{target}' is a directory, expected a file path", source=option)
    if not folder.is_dir():
        raise InputError(f"folder '{folder}' does not exist: create it first", source=option)
    return folder


def _temp_beside(target: Path, folder: Path, option: str) -> Path:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write to folder '{folder}': {exc.strerror}",
                         source=option) from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    return Path(tmp)


def check_writable(target: str | os.PathLike[str], *, option: str = "--out") -> None:
    """Raise :class:`InputError` now if ``target`` could not be written later (touches nothing)."""
    target = Path(target)
    _temp_beside(target, _check_target(target, option), option).unlink()


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike[str], *, option: str = "--out") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it becomes ``target``.

    Fails early, with an :class:`InputError` naming ``option``, when the folder does not exist
    or cannot be written, so no work is wasted.
    """
    target = Path(target)
    tmp_path = _temp_beside(target, _check_target(target, option), option)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def clean_stale(target: Path) -> None:
    """Remove the temporary folders of runs that were killed outright (SIGKILL, power loss):
    ``.NAME.partial-PID`` beside ``target`` whose process is gone."""
    for stale in target.parent.glob(f".{target.name}.partial-*"):
        try:
            pid = int(stale.name.rsplit("-", 1)[1])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(stale, ignore_errors=True)
        except PermissionError:
            pass


@contextlib.contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; on success it becomes ``target``.

    An existing ``target`` is replaced only at the end (moved aside, the new folder renamed in,
    the old one removed), so an error or Ctrl-C leaves the earlier results as they were and no
    partial folder behind.  Folders left by killed runs are cleaned first.
    """
    target = Path(target)
    clean_stale(target)
    tmp = target.parent / f".{target.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
