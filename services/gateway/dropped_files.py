"""Reading a dropped file safely: only a regular file directly in its inbox, never through a link.

Whoever can write to an inbox decides what the names there point at. A symbolic link to
`/etc/passwd` or to the staff app's session secret was read and dead-lettered with its bytes, where
an operator could read it (issue #18, finding 3). So:

- the folders on the way from the drop root to an inbox must be real folders (`lstat`), never links;
- an entry is first looked at with `lstat` (a link, FIFO, socket, device or folder is refused unread),
  then opened with `O_NOFOLLOW | O_NONBLOCK` (a link swapped in after the look fails to open, and a
  FIFO swapped in never blocks the watcher), and the opened descriptor is checked again (`fstat`):
  a regular file with one name (a hard link makes a file elsewhere appear in the inbox), no larger
  than the gateway's size limit, which is read no further than that limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from schemas.errors import AuthorisationError

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


class UnsafeFileError(AuthorisationError):
    """A dropped entry hubnet will not read: not a regular file of its own, or too large."""


def is_real_folder(path: Path) -> bool:
    """A folder, and not a link to one (`Path.is_dir` follows links)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def refusal_reason(mode: int, links: int) -> str | None:
    """Why an entry of this `st_mode` and link count is not read, or None for a plain file."""
    for test, kind in _KINDS:
        if test(mode):
            return (
                f"refused: this is {kind}, not a regular file; hubnet reads only regular files placed "
                "directly in the inbox (copy the file itself in)"
            )
    if not stat.S_ISREG(mode):
        return "refused: not a regular file; copy the file itself into the inbox"
    if links != 1:
        return "refused: this file is a hard link to a file elsewhere; copy the file itself into the inbox"
    return None


def read_dropped(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file in an inbox; raises `UnsafeFileError` saying why not."""
    before = path.lstat()
    reason = refusal_reason(before.st_mode, before.st_nlink)
    if reason:
        raise UnsafeFileError(reason)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:  # replaced by a link since the lstat
            raise UnsafeFileError(refusal_reason(stat.S_IFLNK, 1) or "") from None
        raise UnsafeFileError(f"refused: the file could not be opened ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as opened:
        now = os.fstat(opened.fileno())
        reason = refusal_reason(now.st_mode, now.st_nlink)
        if reason:
            raise UnsafeFileError(reason)
        data = opened.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFileError(
            f"refused: the file is larger than the {max_bytes} bytes a partner may send at once; "
            "split it into smaller files"
        )
    return data
