"""Split a docstring into the tool description and per-parameter descriptions.

Parsing goes through ``docstring-parser``. Its Google parser has gaps that silently drop every
parameter description, so this module works around them before parsing:

- a docstring that starts with ``Args:`` (no summary line) is read as reST; a leading newline
  makes the Google parser see an empty summary instead;
- ``Keyword Args:``, ``Keyword Arguments:``, ``Kwargs:`` and ``Other Parameters:`` sections are
  unknown to it; they are registered as extra parameter sections.

Auto-detection first looks for the markers of each style (much cheaper than letting
``docstring-parser`` try every parser) and falls back to its own detection.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

__all__ = ["DocstringFormat", "ParsedDocstring", "parse_docstring"]

DocstringFormat = Literal["auto", "google", "numpy", "rest", "epydoc"]

_GOOGLE_EXTRA_PARAM_SECTIONS = ("Keyword Args", "Keyword Arguments", "Kwargs", "Other Parameters")
_GOOGLE_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Kwargs|Other Parameters|"
    r"Returns|Yields|Raises|Examples?|Attributes|Notes?):[ \t]*$",
    re.M,
)
_NUMPY_SECTION = re.compile(r"^\s*[A-Z][A-Za-z ]+\n\s*-{3,}[ \t]*$", re.M)
_REST_FIELD = re.compile(r"^\s*:(param|parameter|arg|argument|key|keyword|type|returns?|raises?)\b", re.M)
_EPYDOC_FIELD = re.compile(r"^\s*@(param|type|return|rtype|raise)\b", re.M)


@dataclass(frozen=True)
class ParsedDocstring:
    """What a function's docstring says about the tool."""

    description: str
    """The summary and body, without the parameter, returns and raises sections."""
    params: dict[str, str] = field(default_factory=dict)
    """Parameter name to its description, in docstring order."""


def parse_docstring(doc: str | None, docstring_format: DocstringFormat = "auto") -> ParsedDocstring:
    """Parse a docstring into a description and parameter descriptions.

    Args:
        doc: The raw docstring (``func.__doc__``); ``None`` gives an empty result.
        docstring_format: The docstring style, or ``"auto"`` to detect it.

    Returns:
        The description and the parameter descriptions.
    """
    if not doc or not doc.strip():
        return ParsedDocstring("")
    text = inspect.cleandoc(doc)
    style = _detect(text) if docstring_format == "auto" else docstring_format
    try:
        parsed = _parse(text, style)
    except Exception:  # docstring_parser.ParseError, e.g. an empty "Args:" section
        try:
            parsed = _parse(text, None)
        except Exception:
            # Unparseable: keep the whole text; parameters without descriptions are warned about.
            return ParsedDocstring(text)
    parts = [p.strip() for p in (parsed.short_description, parsed.long_description) if p and p.strip()]
    params: dict[str, str] = {}
    for param in parsed.params:
        if param.description and param.description.strip():
            params[param.arg_name.lstrip("*")] = _unwrap(param.description)
    return ParsedDocstring("\n\n".join(parts), params)


def _detect(text: str) -> DocstringFormat | None:
    """Guess the style from its markers; ``None`` lets ``docstring-parser`` decide."""
    if _REST_FIELD.search(text):
        return "rest"
    if _EPYDOC_FIELD.search(text):
        return "epydoc"
    if _NUMPY_SECTION.search(text):
        return "numpy"
    if _GOOGLE_SECTION.search(text):
        return "google"
    return None


def _parse(text: str, style: DocstringFormat | None) -> Any:
    import docstring_parser

    if style == "google":
        text = _fix_leading_section(text)
        return _google_parser().parse(text)
    return docstring_parser.parse(text, docstring_parser.DocstringStyle[_STYLE_NAMES[style]])


def _fix_leading_section(text: str) -> str:
    """Repair a Google docstring that opens with a section header (no summary line).

    The Google parser would take the header for the summary, and ``inspect.cleandoc`` has
    dedented the entries under it to the header's level, so the section looks empty.
    """
    lines = text.split("\n")
    if not _GOOGLE_SECTION.match(lines[0]):
        return text
    fixed = [lines[0]]
    inside = len(lines) > 1 and not lines[1][:1].isspace()
    for line in lines[1:]:
        if inside and _GOOGLE_SECTION.match(line):
            inside = False
        fixed.append("    " + line if inside and line else line)
    return "\n" + "\n".join(fixed)


def _unwrap(description: str) -> str:
    """Join wrapped lines of one paragraph; keep paragraph breaks."""
    paragraphs = re.split(r"\n\s*\n", description.strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


@lru_cache(maxsize=1)
def _google_parser() -> Any:
    from docstring_parser import google

    extra = [
        google.Section(title, "param", google.SectionType.MULTIPLE) for title in _GOOGLE_EXTRA_PARAM_SECTIONS
    ]
    return google.GoogleParser(sections=[*google.DEFAULT_SECTIONS, *extra])


_STYLE_NAMES = {"numpy": "NUMPYDOC", "rest": "REST", "epydoc": "EPYDOC", "auto": "AUTO", None: "AUTO"}
