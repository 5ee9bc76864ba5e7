"""The example project's settings refuse its public built-in secret key outside the local demo:
that key also signs the API's access tokens (simplejwt), so anyone could mint a staff token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_LOAD = "import example_project.settings as s; print(s.DEBUG, len(s.SECRET_KEY))"


def _load(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", _LOAD],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_demo_runs_with_the_built_in_key() -> None:
    done = _load()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "52"]


def test_without_debug_the_built_in_key_is_refused() -> None:
    done = _load(DJANGO_DEBUG="0")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "DJANGO_SECRET_KEY" in done.stderr


@pytest.mark.parametrize("debug", ["0", "1"])
def test_a_key_of_ones_own_is_used(debug: str) -> None:
    done = _load(DJANGO_DEBUG=debug, DJANGO_SECRET_KEY="k" * 50)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(debug == "1"), "50"]
