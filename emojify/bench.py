"""``emojify bench``: time each stage of the per-frame path, the way a Pi owner checks a device.

Without a source, frames come from a built-in synthetic 640x480 stream: the sample face (a real
photo) pasted at drifting positions inside the capture region over a noisy background.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from emojify.classifier import Classifier
from emojify.faces import load_cascade
from emojify.imageio import read_image
from emojify.pipeline import Pipeline
from emojify.preprocess import prepare_face, to_gray
from emojify.progress import progress_bar
from emojify.resources import SAMPLE_FACE

FRAME_SIZE = (640, 480)
HEAD_CROP = (110, 0, 230, 250)
"""(x, y, w, h) of the head and shoulders in the sample photo."""
HEAD_HEIGHT = 260
"""Pasted height: the face is then about 120 pixels, a visitor about a metre from a webcam."""


def synthetic_stream(seed: int = 0, size: tuple[int, int] = FRAME_SIZE) -> Iterator[np.ndarray]:
    """Endless 640x480 BGR frames with the sample face drifting around the frame's centre."""
    rng = np.random.default_rng(seed)
    x0, y0, w0, h0 = HEAD_CROP
    head = read_image(SAMPLE_FACE)[y0:y0 + h0, x0:x0 + w0]
    face = cv2.resize(head, (round(w0 * HEAD_HEIGHT / h0), HEAD_HEIGHT), interpolation=cv2.INTER_AREA)
    width, height = size
    background = rng.integers(40, 200, (height, width, 3), dtype=np.uint8)
    background = cv2.GaussianBlur(background, (0, 0), 5)
    t = 0
    while True:
        frame = background.copy()
        x = width // 2 - face.shape[1] // 2 + int(20 * np.sin(t / 15))
        y = height // 2 - face.shape[0] // 2 + int(10 * np.cos(t / 20))
        frame[y:y + face.shape[0], x:x + face.shape[1]] = face
        noise = rng.integers(-6, 7, frame.shape, dtype=np.int16)
        yield np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        t += 1


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux), else the peak."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Timings:
    detect: list[float]
    classify: list[float]
    frame: list[float]
    landmarks: list[float]
    faces: list[int]
    detect_cpu: list[float]


def time_frames(pipeline: Pipeline, frames: Iterator[np.ndarray], count: int) -> Timings:
    """Run ``count`` frames through :meth:`Pipeline.live`, timing the whole call; the detection and
    classification times are the ones the pipeline measures itself (``pipeline.times``)."""
    timings = Timings([], [], [], [], [], [])
    for _, frame in zip(progress_bar(range(count), "frames", unit="frame"), frames, strict=False):
        start = time.perf_counter()
        result = pipeline.live(frame)
        timings.frame.append((time.perf_counter() - start) * 1e3)
        timings.detect.append(pipeline.times.detect_ms)
        timings.detect_cpu.append(pipeline.times.detect_cpu_ms)
        timings.faces.append(len(result.faces))
        if result.box is not None:
            timings.classify.append(pipeline.times.classify_ms)
            if pipeline.shapes:  # none measured (null in the report) where the face mesh does not run
                timings.landmarks.append(pipeline.times.landmarks_ms)
    return timings


BASELINE = "OpenCV's Haar cascade over the whole frame (scale 1.1, 5 neighbours, faces from 30x30 px), then the classifier"
"""What bench compares the kiosk's per-frame path with: the plain textbook way of finding and reading a face."""


def time_baseline(classifier: Classifier, frames: Iterator[np.ndarray], count: int) -> list[float]:
    """Milliseconds per frame of the :data:`BASELINE` path: Haar with scale factor 1.1, 5 neighbours
    and 30x30 pixels at least over the whole frame in gray, then the largest face classified."""
    cascade = load_cascade()
    out = []
    for _, frame in zip(progress_bar(range(count), "baseline", unit="frame"), frames, strict=False):
        start = time.perf_counter()
        gray = to_gray(frame)
        boxes = np.asarray(cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30)))
        if len(boxes):
            x, y, w, h = max(boxes.reshape(-1, 4).tolist(), key=lambda b: b[2] * b[3])
            classifier.predict(prepare_face(gray, (x, y, w, h)))
        out.append((time.perf_counter() - start) * 1e3)
    return out


def time_classifier(pipeline: Pipeline, face: np.ndarray, count: int, single_pass: bool = False) -> list[float]:
    """Milliseconds per face of the model with its decision rule (``classifier_ms``, as the live path does),
    or of one model call alone (``single_pass_ms``)."""
    call = pipeline.classifier.predict if single_pass else pipeline.classify  # the rule for camera pictures
    out = []
    for _ in range(count):
        start = time.perf_counter()
        call(face)
        out.append((time.perf_counter() - start) * 1e3)
    return out


def stats(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return float(np.median(values)), float(np.percentile(values, 95))


def run_bench(pipeline: Pipeline, frames: Iterator[np.ndarray], count: int, warmup: int = 20,
              baseline_frames: Iterator[np.ndarray] | None = None) -> dict:
    """Warm up, then time ``count`` frames and ``count`` model calls; returns the report. With
    ``baseline_frames`` (the same frames again), the :data:`BASELINE` path is timed on them too."""
    time_frames(pipeline, frames, warmup)
    rss_start = rss_mb()
    timings = time_frames(pipeline, frames, count)
    face = prepare_face(read_image(SAMPLE_FACE))
    classifier_ms = time_classifier(pipeline, face, max(count, 200))
    single_pass_ms = time_classifier(pipeline, face, max(count, 200), single_pass=True)
    baseline_ms = []
    if baseline_frames is not None:
        time_baseline(pipeline.classifier, baseline_frames, warmup)  # the same warm-up frames, untimed
        baseline_ms = time_baseline(pipeline.classifier, baseline_frames, count)
    report: dict = {}
    for name, values in (("detect", timings.detect), ("detect_cpu", timings.detect_cpu), ("classifier", classifier_ms),
                         ("single_pass", single_pass_ms), ("landmarks", timings.landmarks), ("frame", timings.frame),
                         ("baseline_frame", baseline_ms)):
        report[f"{name}_ms_median"], report[f"{name}_ms_p95"] = stats(values)
    info = pipeline.classifier.info
    report.update({
        "detector": type(pipeline.detector).__name__,
        "frame_vs_baseline": (round(report["frame_ms_median"] / report["baseline_frame_ms_median"], 4)
                              if baseline_ms else None),
        "fps": 1000.0 / report["frame_ms_median"],
        "frames": count,
        "frames_with_face": len(timings.classify),
        "faces_median": float(np.median(timings.faces)) if timings.faces else None,
        "faces": "all" if pipeline.all_faces else "largest",
        "region": pipeline.region_fraction,
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_mb(), 1),
        "backend": f"{info.backend} {info.backend_version}",
        "model_sha256": info.sha256[:12],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu_name()}",
        "python": platform.python_version(),
        "opencv": cv2.__version__,
    })
    return report


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, where there is one."""
    try:
        with open("/proc/cpuinfo") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
    except OSError:
        return ""
    fields = {key.strip().lower(): value.strip() for key, value in fields.items()}
    return next((fields[k] for k in ("model name", "model", "hardware") if k in fields), "")


REPORT_NAMES = {"detect": "detect", "detect_cpu": "detect CPU", "classifier": "classifier", "single_pass": "one pass",
                "landmarks": "landmarks", "frame": "frame", "baseline_frame": "baseline"}
"""How :func:`format_report` names each timing: finding faces (wall and processor time), the model with its
decision rule, one model call alone, the face mesh and shape, the kiosk's whole per-frame path, and the
:data:`BASELINE` path."""


def format_report(report: dict) -> str:
    """Human-readable lines for the terminal, of a report with its ``source`` and ``threads`` added."""
    threads = f"{report['threads']} thread{'s' if report['threads'] > 1 else ''}"
    lines = [f"machine    {report['machine']}, Python {report['python']}, OpenCV {report['opencv']}",
             f"source     {report['source']}, {threads} (--threads)",
             f"backend    {report['backend']} (model {report['model_sha256']}), detector {report['detector']}",
             (f"frames     {report['frames']} ({report['frames_with_face']} with a face, "
              f"{report['faces_median']:g} faces a frame (median), --faces {report['faces']}, "
              f"--region {report['region']:g})")]
    for name in ("detect", "detect_cpu", "classifier", "single_pass", "landmarks", "frame", "baseline_frame"):
        median, p95 = report[f"{name}_ms_median"], report[f"{name}_ms_p95"]
        if median is not None:
            lines.append(f"{REPORT_NAMES[name]:<12}median {median:6.2f} ms   p95 {p95:6.2f} ms")
    if report["frame_vs_baseline"] is not None:
        lines.append(f"frame takes {report['frame_vs_baseline']:.3f}x the baseline's time; baseline: {BASELINE}")
    lines.append(f"fps        {report['fps']:.0f} (whole per-frame path)")
    lines.append(f"memory     RSS {report['rss_mb_start']} MB -> {report['rss_mb_end']} MB")
    return "\n".join(lines)
