"""The physical snapshot button and lamp: gpiozero's mock pins stand in for a Raspberry Pi's header."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli, stderr_lines, wait_until

from emojify.config import ConfigError
from emojify.gpio import BOUNCE_SECONDS, Gpio, GpioError
from emojify.sources import parse_source

gpiozero = pytest.importorskip("gpiozero", reason="gpiozero is not installed (pip install gpiozero)")
from gpiozero.pins.mock import MockFactory

pytestmark = pytest.mark.tk_window  # its Tk windows freed on the main thread (conftest.py)

BUTTON, LAMP = 17, 27


class FakeClock:
    """A monotonic clock the test moves by hand, so the debounce is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    """gpiozero's mock pin factory as the default for the test (what GPIOZERO_PIN_FACTORY=mock does)."""
    factory = MockFactory()
    gpiozero.Device.pin_factory = factory
    yield factory
    factory.reset()
    gpiozero.Device.pin_factory = None


def press(pins: MockFactory, pin: int = BUTTON) -> None:
    """Push the button (it pulls its pin to GND) and let go."""
    pins.pin(pin).drive_low()
    pins.pin(pin).drive_high()


def test_a_press_gives_exactly_one_snapshot_request(pins: MockFactory) -> None:
    calls: list[int] = []
    gpio = Gpio(BUTTON, None, on_press=lambda: calls.append(1))
    try:
        assert calls == []
        press(pins)
        assert calls == [1]
    finally:
        gpio.close()


def test_contact_bounce_is_one_press_and_a_later_press_counts(pins: MockFactory) -> None:
    clock, calls = FakeClock(), []
    gpio = Gpio(BUTTON, None, on_press=lambda: calls.append(clock.now), clock=clock)
    try:
        press(pins)
        for _ in range(3):  # the contacts chatter for a few milliseconds
            clock.now += BOUNCE_SECONDS / 10
            press(pins)
        assert len(calls) == 1
        clock.now += BOUNCE_SECONDS
        press(pins)
        assert len(calls) == 2
    finally:
        gpio.close()


def test_the_lamp_follows_what_it_is_told_and_goes_out_on_close(pins: MockFactory) -> None:
    gpio = Gpio(None, LAMP)
    lamp = pins.pin(LAMP)
    gpio.lamp(True)
    assert lamp.state
    gpio.lamp(False)
    assert not lamp.state
    gpio.lamp(True)
    gpio.close()
    assert lamp.function == "input"  # released: the pin no longer drives the lamp


def test_one_pin_for_button_and_lamp_is_one_line(pins: MockFactory) -> None:
    with pytest.raises(GpioError, match="--led-pin 17: cannot use this GPIO pin") as caught:
        Gpio(BUTTON, BUTTON)
    assert "\n" not in str(caught.value)


def test_a_pin_factory_whose_library_is_missing_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """GPIOZERO_PIN_FACTORY=pigpio without pigpio installed: gpiozero's pin factory raised ModuleNotFoundError,
    which ended emojify run in a traceback (exit code 1)."""
    import gpiozero

    def factory_fails(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'pigpio'")

    monkeypatch.setattr(gpiozero, "LED", factory_fails)
    with pytest.raises(GpioError, match=r"^--led-pin 27: cannot use this GPIO pin here \(No module named 'pigpio'\)"):
        Gpio(None, 27)


def test_without_gpiozero_a_pin_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gpiozero", None)  # "import gpiozero" now fails
    with pytest.raises(GpioError, match="gpiozero is not installed") as caught:
        Gpio(BUTTON, None)
    assert isinstance(caught.value, ConfigError) and "\n" not in str(caught.value)


def test_cli_on_a_machine_without_gpio_says_so_in_one_line(tmp_path: Path, astronaut_jpg: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)  # no mock pins: this PC has no GPIO header
    monkeypatch.delenv("DISPLAY", raising=False)  # the check must come before any window
    code, _, stderr = run_cli("run", "--source", astronaut_jpg, "--button-pin", BUTTON)
    assert code == 2
    assert stderr_lines(stderr) == [stderr_lines(stderr)[0]]
    assert "--button-pin 17" in stderr and "GPIO" in stderr


@pytest.mark.parametrize(("argv", "toml", "expected"), [
    (["--button-pin", "17", "--led-pin", "27"], "", (17, 27)),
    ([], "button_pin = 5\nled-pin = 6\n", (5, 6)),
    (["--led-pin", "22"], "button_pin = 5\nled_pin = 6\n", (5, 22)),
])
def test_pins_come_from_flags_and_the_settings_file(tmp_path: Path, argv: list[str], toml: str,
                                                    expected: tuple[int, int]) -> None:
    from emojify.cli import build_parser
    from emojify.config import settings_from_args

    config = tmp_path / "kiosk.toml"
    config.write_text(toml)
    args = build_parser().parse_args(["run", "--config", str(config), *argv])
    settings = settings_from_args(args)
    assert (settings.button_pin, settings.led_pin) == expected


@pytest.mark.parametrize("value", ['"seventeen"', "-1", "41", "true", "17.5"])
def test_a_bad_pin_in_the_settings_file_is_one_clear_line(tmp_path: Path, value: str) -> None:
    from emojify.cli import build_parser
    from emojify.config import settings_from_args

    config = tmp_path / "kiosk.toml"
    config.write_text(f"button_pin = {value}\n")
    with pytest.raises(ConfigError, match=r"kiosk.toml: 'button_pin' must be a GPIO pin number \(BCM") as caught:
        settings_from_args(build_parser().parse_args(["run", "--config", str(config)]))
    assert "\n" not in str(caught.value)


# --- the kiosk window with the button and lamp (in-process, on a virtual screen) ------------------

def test_the_button_takes_a_snapshot_and_the_lamp_lights_during_the_countdown(
        pins: MockFactory, display: str, astronaut_jpg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import emojify.app
    from emojify.config import Settings

    monkeypatch.setenv("DISPLAY", display)
    apps: list[emojify.app.App] = []
    done = threading.Event()
    original_init = emojify.app.App.__init__

    def init(self, *args, **kwargs) -> None:  # keep the window, and let the test end it from the Tk thread
        original_init(self, *args, **kwargs)
        apps.append(self)

        def watch() -> None:
            if done.is_set():
                self.close()
            else:
                self.root.after(50, watch)

        watch()
        self.root.after(60_000, self.close)  # a stuck test ends, it does not hang

    monkeypatch.setattr(emojify.app.App, "__init__", init)
    seen: dict[str, object] = {}

    def visitor() -> None:
        try:
            live = wait_until(lambda: apps and apps[0].frames_shown > 0 and apps[0].screens.current().screen == "live", 40)
            seen["live"] = live
            if not live:
                return
            app, lamp = apps[0], pins.pin(LAMP)
            seen["lamp_before"] = bool(lamp.state)
            press(pins)
            seen["snapshot"] = wait_until(lambda: app.screens.current().screen == "countdown", 5)
            seen["lamp_during"] = wait_until(lambda: lamp.state and app.screens.current().screen == "countdown", 2)
            seen["back_to_live"] = wait_until(lambda: app.screens.current().screen == "live", 15)
            seen["lamp_after"] = wait_until(lambda: not lamp.state, 2)
            seen["snapshots_taken"] = app.screens.current().snapshots_taken
        finally:
            done.set()

    thread = threading.Thread(target=visitor, daemon=True)
    thread.start()
    code = emojify.app.run_app(Settings(source=parse_source(str(astronaut_jpg)), button_pin=BUTTON, led_pin=LAMP,
                                        snapshot_seconds=2.0))
    thread.join(5)
    assert code == 0
    assert seen == {"live": True, "lamp_before": False, "snapshot": True, "lamp_during": True,
                    "back_to_live": True, "lamp_after": True, "snapshots_taken": 1}
    assert not pins.pin(LAMP).state
