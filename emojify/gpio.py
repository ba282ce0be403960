"""A physical snapshot button and a lamp on a Raspberry Pi's GPIO pins, through gpiozero.

The button connects its pin to GND (the pin's internal pull-up holds it high until pressed); the
lamp is an LED with a series resistor from its pin to GND. gpiozero is imported only when a pin
is set, so machines without GPIO never need it. Presses are debounced here, in software, as well
as by gpiozero's ``bounce_time`` (which not every pin factory implements).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable

from emojify.config import ConfigError

log = logging.getLogger(__name__)

BOUNCE_SECONDS = 0.2
"""Presses closer together than this (contact bounce, a double tap) count as one."""


class GpioError(ConfigError):
    """No GPIO here (gpiozero missing, no pin factory works, a pin taken): one line, exit code 2."""


class Gpio:
    """The snapshot button and the lamp, either optional.

    Each debounced press calls ``on_press`` (on gpiozero's thread, so it must be thread-safe, as
    the kiosk's ``App.request_snapshot`` is). Raises :class:`GpioError` when gpiozero
    is missing or the pins cannot be claimed. ``clock`` (seconds, monotonic) is what the debounce
    measures with; tests pass their own.
    """

    def __init__(self, button_pin: int | None, led_pin: int | None,
                 on_press: Callable[[], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.on_press = on_press
        self._clock = clock
        self._lock = threading.Lock()
        self._last_press: float | None = None
        self.button = self.led = None
        gpiozero = _import_gpiozero(button_pin if button_pin is not None else led_pin)
        try:
            with warnings.catch_warnings():  # gpiozero warns once per pin factory it falls back from
                warnings.simplefilter("ignore")
                if button_pin is not None:
                    self.button = _claim(gpiozero.Button, button_pin, "--button-pin",
                                         pull_up=True, bounce_time=BOUNCE_SECONDS)
                    self.button.when_pressed = self._pressed
                if led_pin is not None:
                    self.led = _claim(gpiozero.LED, led_pin, "--led-pin")
        except GpioError:
            self.close()
            raise

    def _pressed(self) -> None:
        """gpiozero's press callback (on its own thread): pass on a press unless it is a bounce."""
        now = self._clock()
        with self._lock:
            if self._last_press is not None and now - self._last_press < BOUNCE_SECONDS:
                log.debug("button bounce ignored")
                return
            self._last_press = now
        log.info("snapshot button pressed")
        if self.on_press is not None:
            self.on_press()

    def lamp(self, on: bool) -> None:
        """Light the lamp or put it out (nothing without a lamp)."""
        if self.led is not None and bool(self.led.is_lit) != on:
            self.led.value = on

    def close(self) -> None:
        """Put the lamp out and free the pins; calling it twice is harmless."""
        for device in (self.button, self.led):
            if device is not None:
                device.close()
        self.button = self.led = None


def _import_gpiozero(pin: int | None):
    """The gpiozero module, or :class:`GpioError` naming how to install it."""
    try:
        import gpiozero
    except ImportError:
        raise GpioError(f"GPIO pin {pin}: gpiozero is not installed here; on a Raspberry Pi: "
                        "sudo apt install python3-gpiozero, or pip install 'emojify[pi]'") from None
    return gpiozero


def _claim(device_class: type, pin: int, flag: str, **options: object):
    """Make a gpiozero device on ``pin``; any failure of gpiozero or its pin factory becomes one
    :class:`GpioError` line."""
    try:
        return device_class(pin, **options)
    except Exception as exc:  # noqa: BLE001 - gpiozero's own errors, and a pin factory's (GPIOZERO_PIN_FACTORY=pigpio
        # without its library: ModuleNotFoundError; lgpio's and RPi.GPIO's own errors)
        detail = str(exc) or type(exc).__name__
        raise GpioError(f"{flag} {pin}: cannot use this GPIO pin here ({detail}); the button and lamp need "
                        "a Raspberry Pi's GPIO header") from None
