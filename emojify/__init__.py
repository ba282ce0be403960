"""emojify: a camera kiosk that shows the emoji matching the expression on a visitor's face."""

__version__ = "0.1.0"
