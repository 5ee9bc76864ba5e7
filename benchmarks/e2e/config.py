"""Paths and constants shared by the end-to-end benchmark, and its log function."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
PYTHON = sys.executable
API = "/api/analytics/"
END_DATE = "2026-01-01"  # a fixed end date: the same dataset on every run
LOADER_CUSTOMERS_PER_ORDER = 10  # load_demo_data's default: customers = orders / 10


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
