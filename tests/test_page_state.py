"""Page state bugs a tester hit, each reproduced by clicking what a user clicks (#12)."""

import pytest

from genlab.models import noise
from tests.pages import open_page


@pytest.fixture
def demo_app(demos_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS", str(demos_dir))
    return open_page


def test_new_seed_on_the_samples_page_draws_the_next_seed(demo_app):
    at = demo_app("samples", runs="demo-gan-ring")
    at.toggle(key="fresh").set_value(True).run()
    assert not at.exception
    at.button(key="new-seed").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.number_input(key="seed").value == 1
    at.button(key="new-seed").click().run()
    assert not at.exception and at.number_input(key="seed").value == 2


def z_sliders(at) -> dict[str, float]:
    return {s.label: s.value for s in at.slider if s.label.startswith("z[")}


def test_the_z_sliders_follow_endpoint_a(demo_app):
    at = demo_app("latent", run="demo-vae-2d-fashion")
    def code(seed):
        return {f"z[{d}]": float(v) for d, v in enumerate(noise(1, 2, seed)[0])}

    assert z_sliders(at) == pytest.approx(code(0), abs=1e-5)
    at.number_input(key="a").set_value(5).run()
    assert not at.exception
    assert z_sliders(at) == pytest.approx(code(5), abs=1e-5)
    at.radio(key="src_a").set_value("real image").run()  # a real image's code, from the encoder
    assert not at.exception and z_sliders(at) != pytest.approx(code(5), abs=1e-5)
