"""The README and the pages in ``docs/``: a README a newcomer can read, and links that lead somewhere.

The README stays short (at most 12,000 characters), opens with the set-up-and-run and the test
commands (CI runs the second one exactly as written), and every relative link or image in the README
and in ``docs/*.md`` points to a file in the repository, and to a heading that exists when it names
one. Links inside code are not links and are ignored. The model's figures in the README,
``docs/model.md``, ``docs/training.md`` and ``emojify doctor`` are those of its metadata.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
README_LIMIT = 12_000
SECTION_LIMIT = 2_000
"""Characters of one README section at most: about a screenful."""
KIOSK_COMMAND = "bash packaging/setup_env.sh kiosk && .venv/bin/emojify"
TEST_COMMAND = "bash packaging/setup_env.sh test && .venv/bin/python -m pytest"

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def without_code(text: str) -> str:
    """The Markdown ``text`` with fenced code blocks and inline code spans removed."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def relative_links(page: Path) -> list[str]:
    """Every link and image target of ``page`` that is not a web address, in order of appearance."""
    text = without_code(page.read_text(encoding="utf-8"))
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [t for t in targets if not SCHEME.match(t)]


def anchors(page: Path) -> set[str]:
    """The heading anchors GitHub makes for ``page``: lower case, punctuation dropped, spaces to hyphens."""
    slugs: set[str] = set()
    counts: dict[str, int] = {}
    for title in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link in a heading keeps its text
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        repeat = counts.get(slug, 0)
        counts[slug] = repeat + 1
        slugs.add(slug if repeat == 0 else f"{slug}-{repeat}")
    return slugs


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    """The relative links of ``page`` that lead to no file under ``root``, or to no such heading."""
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not dest.is_relative_to(root.resolve()) or not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor.lower() not in anchors(dest):
            broken.append(f"{target} (no heading '{anchor}' in {dest.name})")
    return broken


def test_readme_is_short_enough_for_a_newcomer():
    """Short as a whole, in sections of a screenful each, and the first paragraph says what it is."""
    text = README.read_text(encoding="utf-8")
    assert len(text) <= README_LIMIT, f"README.md has {len(text):,} characters; move depth into docs/"
    parts = re.split(r"^(#{1,3} .*)$", text, flags=re.MULTILINE)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    assert len(sections) >= 5, "README.md has too few sections to find one's way"
    long = {title: len(body) for title, body in sections.items() if len(body) > SECTION_LIMIT}
    assert not long, f"README sections over {SECTION_LIMIT:,} characters (a screenful): {long}; move depth into docs/"
    first = next(p for p in without_code(next(iter(sections.values()))).split("\n\n") if p.strip())
    assert "emoji" in first and "expression" in first, f"the first paragraph does not say what emojify is: {first!r}"


def test_readme_opens_with_the_two_commands():
    lines = [line for line in README.read_text(encoding="utf-8").splitlines()[:8] if line.strip()]
    commands = [line for line in lines if line.startswith("bash ")]
    assert [c.split("#")[0].strip() for c in commands[:2]] == [KIOSK_COMMAND, TEST_COMMAND]


def test_ci_runs_the_readme_test_command_exactly():
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert TEST_COMMAND in [line.strip() for line in ci_lines]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = broken_links(page)
    assert not broken, f"{page.relative_to(REPO)} links to: " + "; ".join(broken)


def test_the_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "there.md").write_text("# Where it is\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md) [ok](there.md#where-it-is) [web](https://example.org/x.md) `[code](gone.md)`\n"
        "[gone](gone.md) ![gone](img/gone.png) [bad anchor](there.md#nowhere)\n",
        encoding="utf-8",
    )
    assert broken_links(page, root=tmp_path) == [
        "gone.md (no such file)",
        "img/gone.png (no such file)",
        "there.md#nowhere (no heading 'nowhere' in there.md)",
    ]


# --- one source for the model's figures ------------------------------------------------------------

def publictest_metrics() -> dict:
    """The shipped model's PublicTest figures, as ``emojify-quantize`` measured them into its metadata."""
    import json

    return json.loads((REPO / "model" / "emotion_int8.json").read_text())["metrics"]["publictest"]


def recall_words(recall: dict[str, float]) -> str:
    """``happy 86%, surprise 85%, ...``: per-class recall, highest first, as the docs write it."""
    return ", ".join(f"{name} {value:.0%}" for name, value in sorted(recall.items(), key=lambda kv: -kv[1]))


def test_the_readme_the_model_card_and_doctor_give_the_metadata_figures():
    """The accuracy and its companions are written in several places; the model's metadata is the one
    source, so a new model cannot leave an old figure behind (re-write these lines from it)."""
    from emojify.classifier import Classifier
    from emojify.doctor import accuracy_words

    m = publictest_metrics()
    raw, shown = m["int8"], m["int8_decision"]
    readme = README.read_text(encoding="utf-8")
    for line in (f"**{shown['accuracy']:.1%}** (raw network {raw['accuracy']:.1%})",
                 f"**{shown['balanced_accuracy']:.1%}** (raw {raw['balanced_accuracy']:.1%})",
                 f"**{shown['ece']:.3f}** (raw {raw['ece']:.3f})",
                 f"| per-class recall | {recall_words(shown['per_class_recall'])} |"):
        assert line in readme, f"README.md lacks {line!r} (from model/emotion_int8.json)"
    card = (REPO / "docs" / "model.md").read_text(encoding="utf-8")
    rows = [f"| accuracy | {raw['accuracy']:.1%} | {shown['accuracy']:.1%} |",
            (f"| balanced accuracy (mean recall of the 7 classes) | {raw['balanced_accuracy']:.1%} | "
             f"**{shown['balanced_accuracy']:.1%}** |"),
            f"| macro F1 | {raw['macro_f1']:.3f} | {shown['macro_f1']:.3f} |"]
    rows += [f"| {name} | {m['int8']['support'][name]} | {raw['per_class_recall'][name]:.1%} | "
             f"{shown['per_class_recall'][name]:.1%} |" for name in raw["per_class_recall"]]
    for row in rows:
        assert row in card, f"docs/model.md lacks {row!r} (from model/emotion_int8.json)"
    training = (REPO / "docs" / "training.md").read_text(encoding="utf-8")
    assert f"| {raw['accuracy']:.1%} (" in training and f"| **{shown['accuracy']:.1%}** |" in training
    assert f"| {recall_words(raw['per_class_recall'])} |" in training
    words = accuracy_words(Classifier().info.metadata)
    assert words == f"PublicTest accuracy {shown['accuracy']:.1%} (raw network {raw['accuracy']:.1%})"
