"""Ending an audit cleanly: signals, worker processes, and what a killed audit left behind.

- SIGTERM (and SIGHUP) raise `Terminated` in the main thread, as SIGINT raises
  KeyboardInterrupt, so the normal cleanup runs: the spill folder is removed, a run being written
  to the store is marked failed, a report file being written is not left half-written. The
  command line then exits 128 + the signal's number (143, 129; 130 for SIGINT).
- Every process forked from the audit (log-parsing and frame-pass pool workers) gets
  PR_SET_PDEATHSIG (Linux, through ctypes): when the audit dies, even by SIGKILL, the kernel
  kills its workers too, instead of leaving them blocked for ever on a queue nobody feeds.
  Workers ignore SIGINT (a Ctrl-C in the terminal is for the audit, which stops them) and take
  SIGTERM's default action.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from types import FrameType

_PR_SET_PDEATHSIG = 1
_installed = False
_forking = 0  # the pid of the process that is forking (set just before each fork)


class Terminated(BaseException):  # noqa: N818 - named like KeyboardInterrupt, its sibling
    """The process was asked to stop by a signal; not an error of the audit."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def _before_fork() -> None:
    global _forking
    _forking = os.getpid()


def _in_child() -> None:
    """Right after a fork, in the child: die with the parent, leave the terminal's ^C to it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the parent check below still catches a parent gone before now
    if os.getppid() != _forking:
        os._exit(1)  # the parent died between the fork and the prctl


def install() -> None:
    """Signal handlers for this process and the fork hook for its children (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` ignores SIGHUP: keep it so
            signal.signal(signum, _raise)
    os.register_at_fork(before=_before_fork, after_in_child=_in_child)
