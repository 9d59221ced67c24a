"""Shared fixtures: paths, the fashion corpus when present, small real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)  # AppTest and the pages resolve pages/ and model_store/ from the project root

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
FASHION_CSV = Path(os.environ.get("ATELIER_FASHION_CORPUS", ROOT.parent / "shared" / "corpora" / "womens-clothing-reviews.csv"))


@pytest.fixture(scope="session")
def fashion_csv() -> Path:
    if not FASHION_CSV.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the fashion corpus at {FASHION_CSV}")
        pytest.skip(f"fashion corpus not at {FASHION_CSV}")
    return FASHION_CSV


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium via Playwright, one per test session: Playwright's sync API allows one
    running instance per process, so the browser tests and tests/test_serve.py share it."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.harness import launch_chromium

    with sync_playwright() as playwright:
        try:
            chromium = launch_chromium(playwright)
        except Exception as error:  # noqa: BLE001 - not installed, or it cannot start here
            if IN_CI:
                pytest.fail(f"CI needs Chromium: {error}")
            pytest.skip(f"no usable Chromium: {error}")
        yield chromium
        chromium.close()
