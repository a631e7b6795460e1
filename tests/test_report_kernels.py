"""The report kernels' transport (spamits.report.kernels): Unix sockets under a unique absolute prefix, so two
runs starting kernels side by side cannot be handed the same TCP port (the race jupyter_client leaves open)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from spamits.report.kernels import ReportKernelManager, kernel_manager_class
from spamits.report.records import KERNEL_ARGUMENTS, KERNEL_NAME

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")


def test_the_report_kernels_use_unix_sockets_under_an_absolute_unique_prefix():
    a, b = ReportKernelManager(kernel_name=KERNEL_NAME), ReportKernelManager(kernel_name=KERNEL_NAME)
    assert kernel_manager_class() is ReportKernelManager
    assert a.transport == b.transport == "ipc"
    assert os.path.isabs(a.ip) and a.ip != b.ip
    assert len(f"{a.ip}-65535".encode()) < 108  # a Unix socket path's limit


@pytest.mark.slow
def test_two_kernels_in_other_folders_than_their_client_run_code_and_leave_no_socket_files(tmp_path):
    async def run(folder):
        km = ReportKernelManager(kernel_name=KERNEL_NAME)
        await km.start_kernel(cwd=str(folder), extra_arguments=list(KERNEL_ARGUMENTS))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            reply = await kc.execute_interactive("import os; print(os.getcwd())", timeout=60)
            assert reply["content"]["status"] == "ok"
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return km.ip

    async def both():
        return await asyncio.gather(*(run(tmp_path / name) for name in ("a", "b")))

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    prefixes = asyncio.run(both())
    assert prefixes[0] != prefixes[1]
    folder = os.path.dirname(prefixes[0])
    assert not [f for f in os.listdir(folder) if any(f.startswith(os.path.basename(p)) for p in prefixes)]


def test_a_temporary_folder_too_long_for_a_socket_is_a_clear_error(monkeypatch, tmp_path):
    from spamits.errors import ReportError

    long_folder = tmp_path / ("x" * 120)
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(long_folder))
    with pytest.raises(ReportError, match="set TMPDIR to a shorter folder"):
        _ = ReportKernelManager(kernel_name=KERNEL_NAME).ip
