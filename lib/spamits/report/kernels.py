"""The kernel manager every report run uses: kernels talk over Unix sockets, not TCP ports.

jupyter_client picks a kernel's five TCP ports by binding port 0, reading the number and closing the socket; the
kernel binds them a moment later. Two runs starting kernels side by side (``spamits report --jobs 2``) can be
handed the same free port in that gap, and one kernel then dies with ``ZMQError: Address already in use`` (seen
in this project's CI; the race is jupyter_client's, see jupyter/jupyter_client#487). With ``transport="ipc"``
the "ports" are socket files under a path unique to the kernel, so no other kernel can take them.

Relied on (jupyter_client 8.x, ``connect.py``): for ``ipc`` the ``ip`` trait is a path prefix and the channels
are the files ``<ip>-<port>``, chosen as the first numbers with no such file; ``cleanup_ipc_files`` removes them
at shutdown. The default ``ip`` for ``ipc`` is the *relative* ``kernel-ipc`` when it is read before the
connection file exists (which is the case), so a kernel running in another working directory than its client
would not find its sockets: the prefix here is absolute and unique. A Unix socket path must stay under 108
bytes, hence a short name in the temporary folder (a clear error when ``TMPDIR`` itself is too long).
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid

from jupyter_client import AsyncKernelManager
from traitlets import default

from spamits.errors import ReportError

__all__ = ["ReportKernelManager", "kernel_manager_class"]

_MAX_SOCKET_PATH = 100
"""Bytes left for ``<prefix>-<port>`` under the 108-byte limit of a Unix socket path (107 on macOS)."""


def _socket_prefix() -> str:
    """An absolute, unique path prefix for one kernel's socket files, in the temporary folder (``TMPDIR``)."""
    folder = tempfile.gettempdir()
    prefix = os.path.join(folder, f"spamits-k{uuid.uuid4().hex[:12]}")
    if len(prefix.encode()) + 6 > _MAX_SOCKET_PATH:  # "-65535"
        raise ReportError(f"the temporary folder {folder} has too long a path for a kernel's Unix socket "
                          f"({_MAX_SOCKET_PATH} bytes at most); set TMPDIR to a shorter folder")
    return prefix


class ReportKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` (nbclient's default) whose kernel listens on Unix sockets of its own."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        return _socket_prefix() if self.transport == "ipc" else super()._ip_default()


def kernel_manager_class() -> type[AsyncKernelManager]:
    """The manager class to give nbclient (``kernel_manager_class=``): IPC where Unix sockets exist."""
    return AsyncKernelManager if sys.platform == "win32" else ReportKernelManager
