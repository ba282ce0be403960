"""The emojify command: the kiosk (default) and its tools.

    emojify [run] [options]      open the kiosk window (see: emojify run --help)
    emojify predict IMAGE...     emoji for photos
    emojify evaluate DIR         accuracy on a labelled folder
    emojify bench                time the per-frame path on this machine
    emojify doctor               what is installed and whether it works

Bad input or bad files end with one line on stderr and exit code 2 (--debug shows a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import json
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emojify import __version__
from emojify.config import BY_NAME, Origin, add_flag, add_run_arguments, settings_from_args
from emojify.errors import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EmojifyError,
    Terminated,
    first_line,
    one_line,
    print_error,
    reason_of,
    sigterm_interrupts,
)
from emojify.fileio import MadeFolders, atomic_path, make_file_folder, make_folder, path_argument, remove_empty
from emojify.helptext import plain_text
from emojify.labels import CLASSES, TEST_SPLITS
from emojify.launch import opencv_problem

if TYPE_CHECKING:  # cv2 and the readers are imported where a command needs them: --help works without
    from emojify.api import Face, Reading
    from emojify.emojis import EmojiSet
    from emojify.sources import CaptureThread

log = logging.getLogger("emojify")

COMMANDS = ("run", "predict", "evaluate", "bench", "doctor")
EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141
"""Exit code when the reader of our output went away (``emojify predict --json ... | head -1``): 128 +
SIGPIPE, what a shell reports for a command ended by a closed pipe."""


class UsageError(EmojifyError):
    """Bad input from the user: printed as one line, exit code 2."""


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """``--model FILE``, as ``emojify run`` has it (the settings table holds its help; :func:`check_flags`
    checks it)."""
    add_flag(parser, "model", config_file=False)


def check_flags(args: argparse.Namespace, *names: str) -> None:
    """Check the flags of these settings in ``args`` as ``emojify run`` checks them, with its messages
    (an unusable ``--model`` path is one line and exit code 2); an absent flag stays None."""
    for name in names:
        setting, value = BY_NAME[name], getattr(args, name)
        if value is not None:
            setattr(args, name, setting.parse(value, Origin(setting.flag)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emojify", description=plain_text(__doc__),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"emojify {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    add_flag(common, "debug", config_file=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="open the kiosk window (the default)",
                         description="Open the kiosk: live camera, emoji and probability bars. "
                                     "Space, Enter, a click or a touch takes a snapshot.")
    add_run_arguments(run)

    predict = sub.add_parser("predict", parents=[common], help="emoji for photos",
                             description="Find the largest face in each image and print its expression and "
                                         "emoji. Unreadable images are reported (exit code 2) after the "
                                         "good ones are handled; an image without a face is a result.")
    predict.add_argument("images", nargs="+", type=path_argument, metavar="IMAGE")
    predict.add_argument("--json", action="store_true", help="print one JSON list, an object per image")
    predict.add_argument("--out", type=path_argument, metavar="DIR",
                         help="also write a composite PNG per image here (the folder is made if missing) and, "
                              "with --emoji generated, a transparent PNG sticker of each face listed")
    predict.add_argument("--region", metavar="FRACTION",
                         help="only faces inside the centred region of this size, 0.1-1 (default: whole image)")
    predict.add_argument("--all-faces", action="store_true",
                         help="classify every face; the JSON gets a 'faces' list, largest first")
    add_flag(predict, "detector", config_file=False)
    add_flag(predict, "snapshot_style", config_file=False,
             help="the composites' look (with --out): " + BY_NAME["snapshot_style"].flag_help)
    add_flag(predict, "emoji", config_file=False,
             help="the composites' emoji (with --out): set: the shipped pictures; generated: each face's own "
                  "emoji, drawn from its shape, and a sticker of it (default: set)")
    add_model_argument(predict)

    evaluate = sub.add_parser("evaluate", parents=[common], help="accuracy on a labelled folder",
                              description="Score the model on DIR/<class>/*.jpg (classes may be missing), "
                                          "with the TFLite interpreter alone. Each image is taken as a face "
                                          "crop (as in FER2013), or with --detect as a whole photo. "
                                          "Unreadable images are reported (exit code 2) after the others "
                                          "are scored.")
    evaluate.add_argument("folder", type=path_argument, metavar="DIR")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object (n, accuracy, "
                          "balanced_accuracy, balanced_accuracy_min30 over the classes of 30+ images, macro_f1, ece, "
                          "per_class_recall, confusion, reliability, ...)")
    evaluate.add_argument("--plot", type=path_argument, metavar="PNG", help="save the confusion matrix as a picture, and "
                          "the reliability diagram beside it (NAME-reliability.png)")
    evaluate.add_argument("--raw", action="store_true", help="score the model's raw probabilities, without its "
                          "decision rule (prior correction, temperature, mirror averaging, camera bias)")
    evaluate.add_argument("--dim", type=float, metavar="BRIGHTNESS", help="as in a dim room: each image scaled to "
                          "this brightness (e.g. 0.3) with sensor noise of sigma 3 grey levels (fixed seed)")
    evaluate.add_argument("--detect", action="store_true", help="whole photos, as 'emojify predict' sees them: "
                          "the largest face found, cropped and classified; a photo without a face found counts "
                          "as wrong (the JSON adds faces_found and no_face per class)")
    evaluate.add_argument("--split", choices=TEST_SPLITS, help="only this FER2013 test split's images, "
                          "whose names start with it (the Kaggle download's test/ holds both; the model's figures "
                          "are PublicTest's)")
    add_flag(evaluate, "detector", config_file=False, help="with --detect: the face detector, blazeface or haar "
             "(default: blazeface)")
    evaluate.set_defaults(detector=None)  # without --detect, a detector given is a mistake, said so
    add_model_argument(evaluate)

    bench = sub.add_parser("bench", parents=[common], help="time the per-frame path on this machine",
                           description="Time detection, the classifier and the whole per-frame path on a "
                                       "synthetic 640x480 stream (or --source's frames), with the kiosk's settings that change the per-frame "
                                       "work (--faces, --region, --detector, --emoji); prints medians and 95th "
                                       "percentiles. With --faces all, detect covers the whole party search. The classifier "
                                       "and one model pass are timed on the built-in sample face, whatever the source.")
    bench.add_argument("--source", help="camera index, picamera[:N], video, image or folder (default: "
                                        "built-in synthetic stream with a real face)")
    bench.add_argument("--frames", type=int, default=300, help="frames to time (default: %(default)s)")
    bench.add_argument("--threads", type=int, default=1, help="interpreter and OpenCV threads (default: 1)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    add_flag(bench, "detector", config_file=False)
    add_flag(bench, "faces", config_file=False)
    add_flag(bench, "region", config_file=False)
    add_flag(bench, "folder_fps", config_file=False)
    add_flag(bench, "emoji", config_file=False,
             help="the kiosk's emoji setting: generated times the face mesh on every face too, which the "
                  "generated emoji is drawn from (landmarks_ms) (default: set)")
    add_model_argument(bench)

    doctor = sub.add_parser("doctor", parents=[common], help="what is installed and whether it works",
                            description="Check this install, one line each: the versions of Python, numpy and "
                                        "OpenCV, the TFLite interpreters, the model, face detector and face mesh "
                                        "(each file verified by its checksum), the emoji set (each picture decoded), "
                                        "the USB and Pi cameras, and "
                                        "how to read the kiosk's speed. Exit code 1 when something the kiosk needs "
                                        "is missing or broken (PROBLEM lines say what and how to mend it).")
    add_model_argument(doctor)
    add_flag(doctor, "emoji_dir", config_file=False)
    return parser


def normalise_argv(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Plain ``emojify`` and ``emojify --kiosk ...`` mean ``emojify run ...``; ``emojify --debug doctor``
    means ``emojify doctor --debug`` (``--no-debug`` too). A first word that is no command is one clear
    error (exit code 2), not the kiosk's "unrecognized arguments"."""
    leading = 0
    while leading < len(argv) and argv[leading] in ("--debug", "--no-debug"):
        leading += 1
    if leading < len(argv) and argv[leading] in COMMANDS:
        return [argv[leading], *argv[:leading], *argv[leading + 1:]]
    if leading < len(argv) and argv[leading] in ("-h", "--help", "--version"):
        return argv[leading:]  # emojify's own help and version: --debug changes neither
    if argv and not argv[0].startswith("-"):
        parser.error(f"unknown command {argv[0]!r} (choose from {', '.join(COMMANDS)})")
    if not argv or argv[0] not in ("-h", "--help", "--version"):
        return ["run", *argv]
    return argv


def shows_emoji(stream) -> bool:
    """Whether ``stream``'s encoding can write an emoji: where not, JSON is written in ASCII (its
    escapes, \\ud83d\\ude04, are valid JSON; the output's own \\U0001f604 would not be)."""
    try:
        "\U0001f604".encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def json_path(path: Path) -> str:
    """A path for JSON output, which must be UTF-8: bytes of a file name that are not (a name from an
    old camera's card) are written as ``\\xff`` escapes instead of breaking the whole output."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def predict_entry(path: Path, reading: Reading, args: argparse.Namespace, emojis: EmojiSet | None) -> dict[str, Any]:
    """One photo's JSON entry for ``predict``: its leading face's fields (and every face's, with
    ``--all-faces``); with ``--out`` (``emojis``) its composite, and its faces' stickers, saved there."""
    from emojify.composite import compose, save_composite, save_stickers
    from emojify.generated import GeneratedEmojiSet

    faces = reading.faces if args.all_faces else reading.faces[:1]
    first = faces[0].as_dict() if faces else dict.fromkeys(("box", "label", "probabilities", "emoji", "shape"))
    first.pop("score", None)  # the image's own fields are the leading face's, as before; its score is in faces
    entry = {"path": json_path(path), **first}
    if args.all_faces:
        entry["faces"] = [face.as_dict() for face in faces]
    if emojis is None:
        return entry
    picture = compose(reading.image, reading.result, emojis, args.snapshot_style)
    try:  # each file is whole or absent (save_composite); a full disk or a lost folder stops here
        saved = save_composite(picture, args.out, prefix=path.stem)
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot save {path.name}'s composite ({reason_of(exc)})") from None
    entry["composite"] = json_path(saved)
    if isinstance(emojis, GeneratedEmojiSet):  # a transparent sticker of each face listed, in order
        try:
            entry["stickers"] = [json_path(sticker) for sticker in save_stickers(emojis, faces, saved)]
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot save {path.name}'s stickers ({reason_of(exc)}); "
                             f"its composite {saved.name} is saved") from None
    return entry


def predicted_line(path: Path, faces: Sequence[Face]) -> str:
    """``predict``'s line for a photo: each face's expression, emoji and figure, as the panel gives it."""
    from emojify.views import whole_percents  # the label's figure as the panel and the composites give it

    shown = [whole_percents(list(face.probabilities.values()))[CLASSES.index(face.label)] for face in faces]
    what = ", ".join(f"{face.label} {face.emoji} ({percent}%)" for face, percent in zip(faces, shown, strict=True))
    return one_line(f"{json_path(path)}: {what or 'no face'}")  # a name's odd bytes as in the JSON


def cmd_predict(args: argparse.Namespace) -> int:
    from emojify.api import Reader
    from emojify.emojis import load_emoji_set
    from emojify.generated import with_generated
    from emojify.imageio import ImageError
    from emojify.progress import print_above, progress_bar

    check_flags(args, "region", "model")
    if not args.out:  # they change only the pictures: alone they would do nothing
        for flag, used in (("--emoji generated", args.emoji == "generated"),
                           ("--snapshot-style mask", args.snapshot_style == "mask")):
            if used:
                raise UsageError(f"{flag} draws the composites: give --out DIR too")
    reader = Reader(args.model, args.detector)  # a bad model refused before --out is made
    emojis = load_emoji_set() if args.out else None
    if emojis is not None and args.emoji == "generated":  # the composite and the stickers, as the kiosk's
        emojis = with_generated(emojis)
    made = MadeFolders(make_folder(args.out, f"--out {args.out}"), args.out) if args.out else MadeFolders([])
    results, failures = [], 0
    try:
        # --json prints once all are read: a bar meanwhile (on a terminal); the text prints each as it goes
        paths = progress_bar(args.images, "predict") if args.json else args.images
        for path in paths:
            try:
                reading = reader.read(path, region=args.region,
                                      all_faces=args.all_faces or args.snapshot_style == "mask")
            except ImageError as exc:
                print_above(paths, one_line(f"emojify: {exc}"))
                failures += 1
                continue
            results.append(predict_entry(path, reading, args, emojis))
            if not args.json:
                print(predicted_line(path, reading.faces if args.all_faces else reading.faces[:1]))
    finally:  # no photo read, a full disk, Ctrl-C: no empty --out folder left, but the way to a composite saved
        made.take_back()
    if args.json:
        print(json.dumps(results, ensure_ascii=not shows_emoji(sys.stdout), indent=2))
    return EXIT_BAD_INPUT if failures else 0


def check_pyplot() -> None:
    """Import ``--plot``'s matplotlib now, not after the evaluation: one line where it is missing or
    cannot be imported (built for another NumPy, say)."""
    from emojify.evaluate import pyplot

    try:
        pyplot()
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").partition(".")[0] == "matplotlib":
            raise UsageError("--plot needs matplotlib, which is not installed here (pip install matplotlib)") from None
        raise UsageError(f"--plot needs matplotlib, which cannot be imported here ({first_line(exc)}); "
                         "pip install --force-reinstall matplotlib") from None


def cmd_evaluate(args: argparse.Namespace) -> int:
    from emojify.classifier import Classifier
    from emojify.decision import IDENTITY
    from emojify.evaluate import (
        confusion_figure,
        evaluate_folder,
        format_table,
        reliability_figure,
        reliability_path,
        write_figure,
    )
    from emojify.progress import progress_bar

    check_flags(args, "model")
    if args.detector is not None and not args.detect:
        raise UsageError("--detector chooses the face detector of --detect (whole photos): give --detect too")
    if args.plot:
        check_pyplot()
    if args.dim is not None and not 0.0 < args.dim <= 1.0:
        raise UsageError(f"--dim {args.dim}: brightness must be in (0, 1]")
    made: list[Path] = []  # the plots' folders, taken away again if the run is refused
    try:
        if args.plot:  # both names checked: the confusion matrix is not saved where its diagram cannot be
            made += make_file_folder(args.plot, f"--plot {args.plot}")
            made += make_file_folder(reliability_path(args.plot), f"--plot {args.plot}: its reliability diagram "
                                                                  f"{reliability_path(args.plot)}")
        classifier = Classifier(args.model, decision=IDENTITY if args.raw else None)
        if args.detect:  # the photo as cmd_predict sees it
            from emojify.evaluate import evaluate_photos
            from emojify.faces import DETECTORS
            from emojify.pipeline import Pipeline

            pipeline = Pipeline(classifier, DETECTORS[args.detector or BY_NAME["detector"].default](),
                                region_fraction=1.0)
            evaluation = evaluate_photos(pipeline, args.folder, progress_bar, brightness=args.dim, split=args.split)
        else:
            evaluation = evaluate_folder(classifier, args.folder, progress_bar, brightness=args.dim, split=args.split)
        for error in evaluation.errors:
            print(one_line(f"emojify: {error}"), file=sys.stderr)
        summary = evaluation.summary
        if not summary["n"]:  # every file named above: no table of zeros, no plot of nothing
            raise UsageError(f"{args.folder}: none of its {len(evaluation.errors)} images can be read")
    except BaseException:  # a bad model or folder, no image read, Ctrl-C: no empty folder left for the plots
        remove_empty(made)
        raise
    if args.json:
        print(json.dumps({**summary, "decision": classifier.decision.as_dict(), "model_sha256": classifier.info.sha256,
                          "unreadable": len(evaluation.errors), "split": args.split}))
    else:
        print(format_table(summary))
    if args.plot:  # after the figures are out: a plot that cannot be saved loses nothing else
        title = (f"{classifier.info.path.name}{' (raw)' if args.raw else ''} on {args.folder}"
                 f"{f' ({args.split})' if args.split else ''}"
                 f"{' (whole photos)' if args.detect else ''}"
                 f"{f' at brightness {args.dim}' if args.dim else ''}")
        try:  # the pair or neither: each written beside its name first, both named once both are whole
            with atomic_path(args.plot) as confusion, atomic_path(reliability_path(args.plot)) as reliability:
                write_figure(confusion_figure(summary, title), confusion)
                write_figure(reliability_figure(summary, title), reliability)
        except OSError as exc:
            raise UsageError(f"--plot {args.plot}: cannot save the plot ({reason_of(exc)})") from None
    return EXIT_BAD_INPUT if evaluation.errors else 0


NO_FRAME_SECONDS = 5.0
"""How long ``emojify bench --source`` waits for a camera's frame before it gives up; a file's, a second
longer than its capture's stall (:attr:`~emojify.sources.CaptureThread.stall_seconds`: a large photo decoding)."""
NO_FRAMES_BECAUSE = {
    "absent": "it cannot be opened",
    "busy": "it is there but does not open: is another program using it?",
    "lost": "none of it could be read as a picture or video",
    "stalled": "it stopped sending pictures",
}
"""Why a source gave ``emojify bench`` no frames, by its last event: the kiosk's own words say it
keeps trying, which bench does not."""


def no_frames_because(capture: CaptureThread) -> str:
    """Why ``capture`` gave ``emojify bench`` no frames: :data:`NO_FRAMES_BECAUSE`, and for a camera that
    opens but sends nothing (on a Pi, the camera module's unicam node) what to use instead."""
    from emojify.sources import SourceKind, pi_camera_found

    if capture.spec.kind.is_camera and str(capture.event) == "lost":
        tip = "; a camera module on the ribbon cable is --source picamera" \
            if capture.spec.kind is SourceKind.CAMERA and pi_camera_found() else ""
        return f"it opens but sends no pictures{tip}"
    return NO_FRAMES_BECAUSE.get(str(capture.event), "none came")


MAX_BENCH_FRAMES, MAX_THREADS = 1_000_000, 64
"""``emojify bench``'s largest ``--frames`` (over an hour at 4 ms a frame; a number past
what a C size holds crashed the progress bar) and ``--threads`` (more than a machine has cores
only waits; a million could not be started)."""


def cmd_bench(args: argparse.Namespace) -> int:
    import cv2

    from emojify.bench import format_report, run_bench, synthetic_stream
    from emojify.classifier import Classifier
    from emojify.pipeline import Pipeline

    for option, value, most in (("--frames", args.frames, MAX_BENCH_FRAMES), ("--threads", args.threads, MAX_THREADS)):
        if not 1 <= value <= most:
            raise UsageError(f"{option} {value}: must be 1 .. {most:,}")
    check_flags(args, "region", "folder_fps", "model")
    cv2.setNumThreads(args.threads)
    from emojify.faces import DETECTORS, haar_available
    from emojify.landmarks import FaceMesh

    shapes = args.emoji == "generated"  # the kiosk finds face meshes only to draw the generated emoji
    pipeline = Pipeline(Classifier(args.model, threads=args.threads), DETECTORS[args.detector](),
                        region_fraction=args.region, all_faces=args.faces == "all", shapes=shapes,
                        mesh=FaceMesh(threads=args.threads) if shapes else None)
    if args.source is None:
        # the baseline is the Haar cascade: not in the executable's slim OpenCV
        report = run_bench(pipeline, synthetic_stream(), args.frames,
                           baseline_frames=synthetic_stream() if haar_available() else None)
        report["source"] = "synthetic 640x480 stream with the sample face"
    else:
        from emojify.sources import CaptureThread, open_reader, probe_source

        spec = BY_NAME["source"].parse(args.source, Origin("--source"))  # as emojify run says a bad one
        probe_source(spec)  # a bad file fails here, with what is wrong and the fix
        opened = []
        if spec.kind.is_camera:  # timed now, so it must be there now (the kiosk would wait for it)
            try:
                opened.append(open_reader(spec, fps=args.folder_fps))
            except OSError as exc:
                raise UsageError(str(exc)) from None
            except Exception as exc:  # noqa: BLE001 - Picamera2's own errors: a camera in use (RuntimeError)
                raise UsageError(f"{args.source}: cannot be opened ({exc})") from None
        with CaptureThread(spec, opener=lambda: opened.pop() if opened else open_reader(spec, fps=args.folder_fps)
                           ) as capture:
            patience = NO_FRAME_SECONDS if spec.kind.is_camera else capture.stall_seconds + 1

            def frames():
                seq = 0
                while True:
                    frame = capture.wait_for_frame(patience, after=seq)
                    if frame is None:
                        raise UsageError(f"{args.source}: no frames in {patience:.0f} s ({no_frames_because(capture)})")
                    seq = frame.seq
                    yield frame.image
            report = run_bench(pipeline, frames(), args.frames)
        report["source"] = args.source
    report["threads"] = args.threads
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from emojify.doctor import run_doctor

    check_flags(args, "model", "emoji_dir")
    return 0 if run_doctor(args.model, args.emoji_dir) else 1


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.debug and not args.debug:  # from the config file: --debug itself was seen by main()
        args.debug = True  # main() shows the traceback of an error from here on
        set_debug(True)
    if settings.stats:  # its lines are INFO, shown though the rest stays at WARNING
        logging.getLogger("emojify.stats").setLevel(logging.INFO)
    if settings.self_test:
        from emojify.selftest import run_self_test

        return 0 if run_self_test(settings.model, settings.emoji_dir) else 1
    from emojify.app import run_app

    return run_app(settings)


HANDLERS = {"run": cmd_run, "predict": cmd_predict, "evaluate": cmd_evaluate, "bench": cmd_bench,
            "doctor": cmd_doctor}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``emojify`` console script; returns the exit code.

    A reader that closes our output early (``| head -1``) ends the command quietly, with
    :data:`EXIT_BROKEN_PIPE`, as other Unix tools do.
    """
    for stream in (sys.stdout, sys.stderr):  # an emoji on a terminal that cannot show it (LANG=C with
        # PYTHONUTF8=0, PYTHONIOENCODING=latin-1) is written as \U0001f604, not a UnicodeEncodeError
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at exit: output to a file waits in the buffer, and fails only there
        return code
    except BrokenPipeError:
        quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if exc.filename is not None or exc.errno not in OUTPUT_FULL:
            raise
        quiet_stdout()  # the output redirected to a full disk (> results.json)
        print(f"emojify: error: cannot write the output ({exc.strerror})", file=sys.stderr)
        return EXIT_BAD_INPUT


OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""A write that names no file failing so: stdout's, redirected to a full disk (our own files' errors name them)."""


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def failed(message: object, debug: bool) -> int:
    """Say ``emojify: error: MESSAGE`` on stderr (:func:`~emojify.errors.print_error`) after the
    traceback of the error being handled where ``debug`` asks for it, and return
    :data:`EXIT_BAD_INPUT`: the exit code is the same with ``--debug`` as without."""
    if debug:
        traceback.print_exc()
    print_error("emojify", message)
    return EXIT_BAD_INPUT


QUIET_FFMPEG = "-8"
"""FFmpeg's log level without ``--debug``: none of its lines."""


def set_debug(debug: bool) -> None:
    """Debug logging on or off, and the libraries' own noise with it: Pillow's DEBUG lines would flood
    ``--debug`` every frame; without it, its ERROR lines on a damaged file ("More samples per pixel than
    can be decoded"), its "Corrupt EXIF data", and OpenCV's and FFmpeg's camera-probe lines ("moov atom
    not found") go: our own errors say more. A settings file's ``debug = true`` calls it again."""
    import cv2

    logging.getLogger().setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("PIL").setLevel(logging.INFO if debug else logging.CRITICAL)
    warnings.filterwarnings("default" if debug else "ignore", module=r"PIL\.")
    if debug:
        if os.environ.get("OPENCV_FFMPEG_LOGLEVEL") == QUIET_FFMPEG:
            del os.environ["OPENCV_FFMPEG_LOGLEVEL"]
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_WARNING)
    else:
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", QUIET_FFMPEG)  # read when FFmpeg first opens a file
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(normalise_argv(list(sys.argv[1:] if argv is None else argv), parser))
    # Every command needs OpenCV, imported here, after parsing, so that --help works without it; this
    # module's own imports (NumPy, Pillow) are guarded where the console script starts (emojify.launch).
    try:  # a missing system library is an install problem, not a bug
        import cv2  # noqa: F401 -- imported here to see that it loads; set_debug uses it
    except ImportError as exc:
        return failed(opencv_problem(exc), args.debug)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    set_debug(args.debug)
    try:
        # SIGTERM as Ctrl-C: temporary files removed. The kiosk's window handles it itself; before and
        # after, SIGTERM ends it as by default (a service manager's clean stop, not exit code 143)
        with sigterm_interrupts() if args.command != "run" else contextlib.nullcontext():
            return HANDLERS[args.command](args)
    except EmojifyError as exc:
        return failed(exc, args.debug)
    except KeyboardInterrupt as exc:
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
