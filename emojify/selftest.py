"""``emojify --self-test``: prove an install or a built executable works, without screen or camera."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from emojify.classifier import Classifier
from emojify.emojis import load_emoji_set
from emojify.faces import BlazeFaceDetector, haar_report
from emojify.imageio import read_image
from emojify.labels import CLASSES
from emojify.landmarks import load_mesh
from emojify.pipeline import Pipeline
from emojify.resources import SAMPLE_FACE
from emojify.views import whole_percents

EXPECTED_LABEL = "happy"  # the built-in sample face is a smiling astronaut

Check = tuple[str, Callable[[], str]]
"""A named check: a function that returns a one-line detail, or raises with what is wrong."""


@dataclass(frozen=True)
class Outcome:
    """How one check went: its name, whether it passed, and its detail or the error's message."""

    name: str
    passed: bool
    detail: str


def run_checks(checks: Iterable[Check], report: Callable[[Outcome], None]) -> bool:
    """Run every check in order, also after one fails, and report each; True only if all passed.

    The one check runner of ``emojify --self-test`` and ``emojify doctor``; they differ only in
    their checks and in how ``report`` prints an outcome.
    """
    passed = True
    for name, check in checks:
        try:
            outcome = Outcome(name, True, check())
        except Exception as exc:  # noqa: BLE001 - every failure is reported as a failed check
            outcome = Outcome(name, False, str(exc))
        passed = passed and outcome.passed
        report(outcome)
    return passed


def run_self_test(model: Path | None, emoji_dir: Path | None, say: Callable[[str], None] = print) -> bool:
    """Run each check, printing ``ok``/``FAIL`` and a detail per line; True only if all pass."""
    state: dict = {}

    def check_model() -> str:
        state["classifier"] = Classifier(model)
        info = state["classifier"].info
        return f"{info.path.name} sha256 {info.sha256[:12]} verified, {info.backend} {info.backend_version}"

    def check_detector() -> str:
        state["detector"] = BlazeFaceDetector()
        return f"BlazeFace model verified and loaded; {haar_report()}"

    def check_mesh() -> str:
        mesh_model = load_mesh()
        picture = read_image(SAMPLE_FACE)
        found = BlazeFaceDetector.for_stills().detect(picture)
        mesh = mesh_model.run(picture, found[0].box, found[0].roll) if found else None
        if mesh is None:
            raise AssertionError("no face mesh on the sample face")
        return f"{mesh_model.path.name} verified, {len(mesh.points)} points on the sample face (score {mesh.score:.2f})"

    def check_emojis() -> str:
        emojis = load_emoji_set(emoji_dir)
        return f"{len(emojis.images)} emoji images in {emojis.folder}"

    def check_pipeline() -> str:
        if "classifier" not in state or "detector" not in state:
            raise RuntimeError("not run: the model or the detector failed above")
        pipeline = Pipeline(state["classifier"], state["detector"])
        result = pipeline.analyze(read_image(SAMPLE_FACE), use_region=False)
        if result.label != EXPECTED_LABEL:
            raise AssertionError(f"sample face gave {result.label!r}, expected {EXPECTED_LABEL!r}")
        shown = whole_percents(result.probabilities)[CLASSES.index(result.label)]  # as the panel shows it
        return f"sample face -> {result.label} {result.emoji} ({shown}%)"

    checks = (("model", check_model), ("face detector", check_detector), ("face mesh", check_mesh),
              ("emoji set", check_emojis),
              ("pipeline", check_pipeline))
    passed = run_checks(checks, lambda o: say(f"{'ok' if o.passed else 'FAIL':<6}{o.name}: {o.detail}"))
    say("self-test passed" if passed else "self-test FAILED")
    return passed
