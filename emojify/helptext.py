"""Docstrings as plain ``--help`` text: the command-line tools' descriptions without reStructuredText markup.

A leaf module, so that ``emojify-train`` and ``emojify-quantize`` need not import the ``emojify``
command's own module for it.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)


def plain_text(docstring: str) -> str:
    """A module docstring as ``--help`` prints it: reStructuredText markup (literals, roles such as
    ``:class:``, ``::`` before an indented block) removed, the words and line breaks kept."""
    text = _LITERAL.sub(r"\1", _ROLE.sub(r"\1", docstring))
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)
