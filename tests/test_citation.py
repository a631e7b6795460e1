"""LICENSE and CITATION.cff: the citation names the package version, the licence the project states, and the
README and the report index say how to cite with the same title and version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from spamits import __version__
from spamits.report.index import CITATION_AUTHOR, CITATION_TITLE, citation

ROOT = Path(__file__).resolve().parents[1]
CFF_KEYS = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi", "identifiers",
            "keywords", "license", "license-url", "message", "preferred-citation", "references", "repository",
            "repository-artifact", "repository-code", "title", "type", "url", "version"}
"""Every top-level key the Citation File Format 1.2.0 schema allows (additionalProperties: false)."""


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_version_is_the_package_version():
    assert cff()["version"] == pyproject()["project"]["version"] == __version__


def test_citation_file_is_valid_cff_1_2_0():
    doc = cff()
    assert doc["cff-version"] == "1.2.0"
    assert set(doc) <= CFF_KEYS, set(doc) - CFF_KEYS
    assert {"cff-version", "message", "title", "authors"} <= set(doc)  # required by the schema
    assert isinstance(doc["message"], str) and doc["message"].strip()
    assert doc["type"] in ("software", "dataset")
    assert doc["authors"] == [{"name": CITATION_AUTHOR}]  # an entity, not a person
    assert isinstance(doc["version"], str)  # a string, as the schema wants (not the float 0.1)
    assert doc["title"] == CITATION_TITLE
    assert doc["license"] == pyproject()["project"]["license"]["text"] == "MIT"
    assert "date-released" not in doc or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(doc["date-released"]))


def test_licence_file_is_the_mit_licence_the_project_states():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c)" in text and CITATION_AUTHOR in text
    assert "WITHOUT WARRANTY OF ANY KIND" in text


def test_readme_says_how_to_cite_with_the_same_title_and_version():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How to cite", 1)[1].split("\n## ", 1)[0]
    assert citation()["bibtex"] in section
    assert " ".join(citation()["text"].split()) in " ".join(section.replace("> ", "").split())
