"""A table for notebook display: full cell text (no truncation), HTML-escaped, with an optional caption."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class DisplayTable:
    """A DataFrame shown in full: ``_repr_html_`` escapes every cell (text from data files is never markup)."""

    frame: pd.DataFrame
    caption: str = ""

    def _repr_html_(self) -> str:
        body = self.frame.to_html(escape=True, border=0)
        if not self.caption:
            return body
        return body.replace(">\n", f">\n<caption>{html.escape(self.caption)}</caption>\n", 1)

    def __repr__(self) -> str:
        text = self.frame.to_string()
        return f"{self.caption}\n{text}" if self.caption else text
