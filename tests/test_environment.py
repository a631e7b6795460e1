"""pyproject.toml, requirements.lock, environment.yml, .ci/run, the CI workflow and the README agree.

No network: these tests only read the project's own files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
ENV_YML = ROOT / "environment.yml"
PYPROJECT = ROOT / "pyproject.toml"

# PyPI name -> conda-forge name, where they differ (canonical PyPI names).
PYPI_TO_CONDA = {"nbconvert": "nbconvert-core", "kaleido": "python-kaleido", "libarchive-c": "python-libarchive-c"}
# The platform the lock is generated for (see the Makefile's LOCK_CMD).
LOCK_ENV = default_environment() | {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
}
CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?:=(?P<version>[^=<>!\s]+))?$")


def _direct_requirements() -> list[Requirement]:
    """Runtime and dev requirements from pyproject.toml that apply on Linux / Python 3.11."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    reqs = [Requirement(s) for s in specs]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(LOCK_ENV)]


def _lock_pins() -> dict[str, str]:
    """{canonical name: version} from requirements.lock; every entry must be one exact ``==`` pin."""
    pins: dict[str, str] = {}
    for lineno, raw in enumerate(LOCK.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"requirements.lock:{lineno}: option lines are not expected: {raw!r}"
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version, (
            f"requirements.lock:{lineno}: {raw!r} is not an exact '==' pin; regenerate with `make lock`"
        )
        name = canonicalize_name(req.name)
        assert name not in pins, f"requirements.lock:{lineno}: {req.name} pinned twice"
        pins[name] = specs[0].version
    return pins


def _conda_env() -> dict:
    return yaml.safe_load(ENV_YML.read_text(encoding="utf-8"))


def _conda_specs() -> dict[str, str | None]:
    """{name: version or None} for the conda (non-pip) entries of environment.yml."""
    out: dict[str, str | None] = {}
    for entry in _conda_env()["dependencies"]:
        if isinstance(entry, dict):
            continue
        m = CONDA_SPEC.match(str(entry).strip())
        assert m, f"environment.yml: cannot parse dependency {entry!r}; write it as name=version"
        assert m["name"] not in out, f"environment.yml: {m['name']} listed twice"
        out[m["name"]] = m["version"]
    return out


def test_lock_pins_every_direct_dependency_within_its_specifier() -> None:
    pins = _lock_pins()
    for req in _direct_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} (pyproject.toml) is missing from requirements.lock; run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject.toml's {req}; run `make lock`"
        )


def test_lock_does_not_pin_the_project_itself() -> None:
    assert "spamits" not in _lock_pins(), "requirements.lock must not pin spamits; it is installed with -e ."


def test_lock_header_documents_its_generator() -> None:
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    first_pin = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    header = "\n".join(lines[:first_pin])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make lock" in header and "uv pip compile pyproject.toml --extra dev" in header
    assert "uv pip compile pyproject.toml --extra dev" in makefile and re.search(r"^lock:", makefile, re.M)


def test_environment_yml_lists_direct_dependencies_at_locked_versions() -> None:
    pins = _lock_pins()
    conda = _conda_specs()
    pypi_names = [canonicalize_name(r.name) for r in _direct_requirements()]
    expected = {PYPI_TO_CONDA.get(name, name): name for name in pypi_names}
    for conda_name, pypi_name in expected.items():
        assert conda_name in conda, (
            f"environment.yml lacks {conda_name} (pyproject.toml's {pypi_name}); "
            f"add '- {conda_name}={pins[pypi_name]}'"
        )
        assert conda[conda_name] == pins[pypi_name], (
            f"environment.yml has {conda_name}={conda[conda_name]} but requirements.lock pins "
            f"{pypi_name}=={pins[pypi_name]}; write '- {conda_name}={pins[pypi_name]}'"
        )
    extra = set(conda) - set(expected) - {"python", "pip"}
    assert not extra, f"environment.yml lists {sorted(extra)} which pyproject.toml does not depend on"


def test_environment_yml_is_conda_forge_python311_with_editable_install() -> None:
    env = _conda_env()
    assert env["name"] == "spamits"
    assert env["channels"] == ["conda-forge"], "environment.yml must use conda-forge only"
    assert _conda_specs().get("python") == "3.11"
    pip_sections = [e["pip"] for e in env["dependencies"] if isinstance(e, dict)]
    assert pip_sections == [["-e ."]], f"environment.yml's pip section must be ['-e .'], not {pip_sections}"


def _commands(path: Path) -> list[str]:
    """Non-blank, non-comment lines of a shell script."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_ci_run_invokes_exactly_make_test() -> None:
    commands = _commands(ROOT / ".ci" / "run")
    make_calls = [c for c in commands if re.match(r"(exec\s+)?make\b", c)]
    assert [re.sub(r"^exec\s+", "", c) for c in make_calls] == ["make test"], (
        f".ci/run must run exactly `make test` (the README's test command); found {make_calls}"
    )


def _readme_code() -> list[str]:
    """Every inline code span and every line of every fenced block in README.md."""
    readme = ROOT / "README.md"
    assert readme.is_file(), "README.md is missing; it must show `make test` and `make report`"
    text = readme.read_text(encoding="utf-8")
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    lines = [ln.split(" #")[0].strip().lstrip("$ ").strip() for block in fenced for ln in block.splitlines()]
    without_fences = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return lines + re.findall(r"`([^`\n]+)`", without_fences)


@pytest.mark.parametrize("command", ["make test", "make report"])
def test_readme_shows_the_two_commands(command: str) -> None:
    assert command in _readme_code(), f"README.md must show `{command}` as code"


def test_workflow_runs_the_two_commands_and_publishes_reports() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "reports.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads the bare key `on` as True
    assert {"push", "pull_request", "schedule", "workflow_dispatch"} <= set(triggers)
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job.get("steps", [])]
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job.get("steps", [])]
    assert any("make test" in r for r in runs) and any("make report" in r for r in runs)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
