"""Every page of the app opens on the shipped demo runs, and the app's navigation lists
exactly the pages on disk, grouped in sections."""

import re
from pathlib import Path

import pytest

from tests.pages import open_page

ROOT = Path(__file__).resolve().parents[1]
PAGE_FILES = sorted(p.stem for p in (ROOT / "app_pages").glob("*.py") if p.stem != "__init__")
TITLES = {"home": "GenLab", "learn": "GANs and VAEs", "lessons": "Lessons", "lab": "2-D lab",
          "train": "Train a model", "runs": "Runs", "samples": "Samples", "latent": "Latent space",
          "compare": "GAN vs VAE", "repair": "Repair images: GAN vs VAE",
          "judge": "Real or generated?", "class_view": "Class"}


def test_the_navigation_lists_every_page_once_in_sections():
    app = (ROOT / "app.py").read_text()
    listed = re.findall(r'st\.Page\("app_pages/(\w+)\.py"', app)
    assert sorted(listed) == PAGE_FILES and len(set(listed)) == len(listed)
    assert '"Teach": [' in app and '"Train and inspect": [' in app


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_opens_with_its_title(page, demos_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS", str(demos_dir))
    at = open_page(page)
    assert [t.value for t in at.title][:1] == [TITLES[page]]
