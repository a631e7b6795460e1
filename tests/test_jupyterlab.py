"""JupyterLab on loopback runs ``takedown_its.ipynb`` with the project's registered kernel.

The test registers the kernel ``spamits`` the way ``make venv`` does (``python -m ipykernel install --name
spamits``, here into a temporary prefix so the user's own kernels are neither used nor touched), starts
``jupyter lab`` from this environment on 127.0.0.1 with a token and a temporary root folder holding a copy of
the notebook, reads the notebook through the server's contents API, starts a session with that kernel through
the REST API, executes every code cell over the kernel's websocket, and checks that no cell fails and that the
figures arrive as plotly's JupyterLab mimetype.  The server is stopped by its process id.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import websocket

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "takedown_its.ipynb"
KERNEL = "spamits"
START_TIMEOUT = 120
CELL_TIMEOUT = 600
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Lab:
    """A running ``jupyter lab`` process and a tiny REST client for it."""

    def __init__(self, root: Path, home: Path) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
        # figures as the plotly mimetype JupyterLab draws; the PNG the default renderer adds beside each figure
        # (kaleido) is checked in test_plots.py, and here would only start a browser in the kernel
        env["SPAMITS_PLOTLY_RENDERER"] = "plotly_mimetype"
        env.update({
            "JUPYTER_PATH": str(home / "share" / "jupyter"),  # the kernel registered below, found first
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
        })
        self.log = (home / "lab.log").open("w", encoding="utf-8")
        args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={home / 'settings'}",
                f"--LabApp.workspaces_dir={home / 'workspaces'}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")  # CI containers; loopback and a token keep it private
        self.proc = subprocess.Popen(args, env=env, cwd=root, stdout=self.log, stderr=subprocess.STDOUT)

    def request(self, method: str, path: str, body: dict | None = None) -> Any:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as response:
            text = response.read().decode("utf-8")
        return json.loads(text) if text.strip() else None

    def wait_ready(self) -> dict:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self.log.name}")
            try:
                return self.request("GET", "/api/status")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise TimeoutError(f"jupyter lab did not answer within {START_TIMEOUT} s; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # by its process id; the server shuts its kernels down
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.log.close()


def execute(ws: websocket.WebSocket, code: str, session: str) -> tuple[dict, list[dict]]:
    """Send one execute_request; return the execute_reply content and the iopub messages it caused."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))
    iopub: list[dict] = []
    reply: dict | None = None
    idle = False
    deadline = time.monotonic() + CELL_TIMEOUT
    while reply is None or not idle:
        ws.settimeout(max(1.0, deadline - time.monotonic()))
        message = json.loads(ws.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if message["channel"] == "shell" and message["msg_type"] == "execute_reply":
            reply = message["content"]
        elif message["channel"] == "iopub":
            iopub.append(message)
            idle = idle or (message["msg_type"] == "status" and message["content"]["execution_state"] == "idle")
        if time.monotonic() > deadline:
            raise TimeoutError(f"cell did not finish within {CELL_TIMEOUT} s: {code[:80]!r}")
    return reply, iopub


@pytest.mark.slow
def test_jupyterlab_executes_takedown_notebook_with_the_registered_kernel(tmp_path):
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    shutil.copy2(NOTEBOOK, root / NOTEBOOK.name)
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(home), "--name", KERNEL,
                    "--display-name", "Python (spamits)"], check=True, capture_output=True, timeout=120)
    lab = Lab(root, home)
    try:
        lab.wait_ready()
        specs = lab.request("GET", "/api/kernelspecs")["kernelspecs"]
        assert KERNEL in specs, sorted(specs)
        argv = specs[KERNEL]["spec"]["argv"]
        assert Path(argv[0]).resolve() == Path(sys.executable).resolve(), argv  # this environment's Python

        model = lab.request("GET", f"/api/contents/{NOTEBOOK.name}?content=1&type=notebook")
        cells = [c for c in model["content"]["cells"] if c["cell_type"] == "code"]
        assert len(cells) > 5 and model["content"]["metadata"]["kernelspec"]["name"] == "python3"

        session = lab.request("POST", "/api/sessions", {"path": NOTEBOOK.name, "name": NOTEBOOK.name,
                                                        "type": "notebook", "kernel": {"name": KERNEL}})
        assert session["kernel"]["name"] == KERNEL
        url = f"ws://127.0.0.1:{lab.port}/api/kernels/{session['kernel']['id']}/channels"
        ws = websocket.create_connection(f"{url}?session_id={uuid.uuid4().hex}", timeout=CELL_TIMEOUT,
                                         header=[f"Authorization: token {lab.token}"], suppress_origin=True)
        figures = 0
        try:
            for number, cell in enumerate(cells, start=1):
                source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                reply, iopub = execute(ws, source, session["id"])
                errors = [m["content"] for m in iopub if m["msg_type"] == "error"]
                assert reply["status"] == "ok" and not errors, f"code cell {number} failed: {reply} {errors}"
                figures += sum(PLOTLY_MIME in m["content"].get("data", {}) for m in iopub
                               if m["msg_type"] in ("display_data", "execute_result"))
        finally:
            ws.close()
        assert figures >= 3, "the notebook's figures did not arrive as plotly's JupyterLab mimetype"
        assert (root / "results.json").is_file()  # written in the notebook's own folder, the kernel's cwd
        lab.request("DELETE", f"/api/sessions/{session['id']}")
    finally:
        lab.stop()
    assert lab.proc.returncode is not None
