"""Atomic output: write to a temporary sibling (a file or a whole folder), then rename over the
target.

A reader never sees a half-written file, and an error or Ctrl-C leaves nothing behind: the
temporary file is removed and any earlier file at the target is kept as it was.  ``os.replace``
is atomic on POSIX when source and target are on one file system, hence the sibling.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from leotwin.errors import InputError

#: causes of a failed write the user can fix (space, quota, read-only media, permissions)
USER_FIXABLE = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                errno.EFBIG, errno.ENAMETOOLONG}
_CAUSE = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
          errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
          errno.EPERM: "operation not permitted", errno.EFBIG: "file too large for the file "
          "system", errno.ENAMETOOLONG: "file name too long"}


def write_problem(exc: BaseException) -> str | None:
    """The cause, in words, of a failed write the user can fix; None for any other error."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, OSError) and code is None:  # pyarrow puts "[Errno 28]" in the text
        text = str(exc)
        code = next((c for c in USER_FIXABLE if f"[Errno {c}]" in text), None)
    return _CAUSE.get(code) if isinstance(exc, OSError) and code in USER_FIXABLE else None


def _as_input_error(exc: BaseException, target: Path, option: str) -> BaseException:
    cause = write_problem(exc)
    if cause is None:
        return exc
    return InputError(f"cannot write '{target}': {cause}; nothing was written (an earlier "
                      "file there is kept)", source=option)


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
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        mapped = _as_input_error(exc, target, option)
        if mapped is exc:
            raise
        raise mapped from None


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
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        mapped = _as_input_error(exc, target, "--out")
        if mapped is exc:
            raise
        raise mapped from None


@contextlib.contextmanager
def output_lock(target: str | os.PathLike[str], *, option: str = "--out") -> Iterator[None]:
    """Hold an exclusive lock on ``target`` (``flock`` on ``.NAME.lock`` beside it) while a
    command writes it, so that two runs to one output never both write it: the second gets
    one line naming the first's process.  The lock file is removed on release; a lock file
    left by a killed process holds no lock and is taken over."""
    target = Path(target)
    lock = target.parent / f".{target.name}.lock"
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InputError(f"cannot lock '{target}': {exc.strerror}", source=option) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise InputError(f"'{target}' is being written by a run in progress (pid {holder}):"
                             " wait for it to finish or choose another --out", source=option
                             ) from None
        try:  # the file we locked is still the lock file (a releasing holder may unlink it)
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def write_parquet(table, path: str | os.PathLike[str], **options) -> None:
    """``pyarrow.parquet.write_table`` into a file we open and close ourselves: when the write
    fails (a full disk) the file is closed at once, not when the garbage collector runs (which
    would keep the file system busy and the space taken)."""
    import pyarrow.parquet as pq

    with open(path, "wb") as sink:
        pq.write_table(table, sink, **options)
