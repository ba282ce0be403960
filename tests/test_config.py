"""``emojify run`` settings the system refuses: one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import pytest

from emojify.cli import main

LONG = "a" * 5000
NO_USER = "~nosuchuser-emojify-test/x"


@pytest.mark.parametrize(("config_text", "flags", "said"), [
    (b"\xff\xfe", [], "not UTF-8 text"),
    (f'save_dir = "{LONG}"'.encode(), [], "'save_dir' must be a usable file or folder path (File name too long)"),
    (f'source = "{LONG}"'.encode(), [], "'source' must be a usable file or folder path (File name too long)"),
    (b'emoji_dir = "\\u0000x"', [], "'emoji_dir' must be a usable file or folder path ("),  # the reason's words vary with Python's version
    (f'model = "{NO_USER}"'.encode(), [], "'model' must be a usable file or folder path (no such user for ~)"),
    (None, ["--save-dir", LONG], "--save-dir must be a usable file or folder path (File name too long)"),
    (None, ["--source", LONG], "--source must be a usable file or folder path (File name too long)"),
    (None, ["--model", NO_USER], "--model must be a usable file or folder path (no such user for ~)"),
    (None, ["--config", NO_USER], "--config must be a usable file or folder path (no such user for ~)"),
    (None, ["--model", LONG], "--model must be a usable file or folder path (File name too long)"),
    (None, ["--emoji-dir", LONG], "--emoji-dir must be a usable file or folder path (File name too long)"),
    (f'model = "{LONG}"'.encode(), [], "'model' must be a usable file or folder path (File name too long)"),
], ids=["non-utf8-file", "long-save-dir", "long-source", "nul-emoji-dir", "unknown-user-model",
        "long-save-dir-flag", "long-source-flag", "unknown-user-model-flag", "unknown-user-config-flag",
        "long-model-flag", "long-emoji-dir-flag", "long-model"])
def test_unusable_settings_end_with_one_line(tmp_path, capsys, config_text, flags, said):
    if config_text is not None:
        config = tmp_path / "kiosk.toml"
        config.write_bytes(config_text + b"\n")
        flags = ["--config", str(config), *flags]
    assert main(["run", *flags, "--self-test"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err, err[:300]
