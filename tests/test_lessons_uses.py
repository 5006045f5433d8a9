"""The two lessons on what the models are used for, and the Repair page: findings judged on
their numbers (each mark against the numbers it quotes), the figures' data, the pages'
controls and their URL, and the launch button."""

import math

import pytest

from genlab import jobs
from genlab.store.evaluations import latest_evaluation
from genlab.store.runs import list_runs, open_run
from genlab.teaching.lessons import LESSONS, repair_findings, training_data_findings
from genlab.views.figures import repair_figure, training_data_figure
from tests.pages import open_page
from tests.support import SHIPPED, needs_fashion


def bench(gan_box, vae_box, gan_noise=0.02, vae_noise=0.015, encoder=(0.035, 0.1), search_s=5.0):
    """Repair benchmarks of a GAN and a VAE: hidden-pixel MSE of each method, the encoder's
    (MSE, seconds) and the search's seconds."""
    def entry(mse, seconds=search_s):
        return {"hidden_mse": mse, "hidden_psnr": -10 * math.log10(mse), "whole_psnr": 20.0,
                "seconds": seconds}
    damaged = {"hidden_mse": 0.11, "hidden_psnr": 9.6, "whole_psnr": 15.5}
    common = {"images": 256, "search_steps": 200, "encoder_rounds": 20}
    gan = {**common, "box": {"damage": "a box", "damaged": damaged, "search": entry(gan_box)},
           "noise": {"damage": "noise", "damaged": damaged, "search": entry(gan_noise)}}
    vae = {**common, "box": {"damage": "a box", "damaged": damaged, "search": entry(vae_box),
                             "encoder": entry(*encoder)},
           "noise": {"damage": "noise", "damaged": damaged, "search": entry(vae_noise), "encoder": entry(0.04, 0.1)}}
    return {"GAN": {"repair": gan}, "VAE": {"repair": vae}}


def test_the_vae_repairing_better_is_as_expected_and_said_with_its_numbers():
    box, noise, encoder = repair_findings(bench(gan_box=0.05, vae_box=0.03))
    assert box.as_expected and "GAN by search 0.0500, VAE by search 0.0300" in box.text
    assert "damaged input 0.1100" in box.text and "256 test images" in box.text
    assert noise.as_expected and "VAE by search 0.0150" in noise.text  # its best method, not its encoder's 0.04
    # 0.035 <= 1.25 * 0.03 = 0.0375: within a quarter, and faster, as amortised inference promises
    assert encoder.as_expected and "0.0350 against 0.0300" in encoder.text


@pytest.mark.parametrize("encoder, search_s, expected", [
    ((0.036, 0.1), 5.0, True),  # within a quarter of the search's 0.03, and faster
    ((0.040, 0.1), 5.0, False),  # a third worse: the amortisation gap
    ((0.030, 6.0), 5.0, False),  # as good, but slower
])
def test_the_encoders_mark_follows_its_error_and_its_time(encoder, search_s, expected):
    found = repair_findings(bench(0.05, 0.03, encoder=encoder, search_s=search_s))[-1]
    assert found.as_expected is expected and f"{encoder[1]:.1f} s" in found.text


def test_the_gan_repairing_better_is_said_to_go_against_the_textbook():
    box, noise, _ = repair_findings(bench(gan_box=0.02, vae_box=0.03, gan_noise=0.01))
    assert not box.as_expected and "against the textbook" in box.text
    assert not noise.as_expected
    assert repair_findings({"GAN": {}, "VAE": {}}) == []  # not evaluated: nothing claimed


def training(cas, real, gain, std, images=5000):
    return {"cas": cas, "cas_real": real, "cas_images": images,
            "augmentation": {"real_images": 500, "generated_images": 5000, "seeds": [0, 1, 2],
                             "real_only": [0.7, 0.7, 0.7], "with_generated": [0.7 + gain] * 3,
                             "real_only_mean": 0.7, "with_generated_mean": 0.7 + gain, "gain": gain, "gain_std": std}}


def test_training_data_findings_follow_the_numbers():
    found = training_data_findings({"cGAN": training(0.55, 0.8, 0.02, 0.005), "cVAE": training(0.65, 0.8, -0.01, 0.02)})
    assert [f.as_expected for f in found] == [True, True, True, True, False]
    assert "scores 55.0% on the real test set, against 80.0%" in found[0].text
    assert "cGAN 55.0%, cVAE 65.0%" in found[2].text
    assert "-1.0% ± 2.0% over 3 seeds" in found[4].text and "No gain beyond the spread" in found[4].text
    reversed_ = training_data_findings({"cGAN": training(0.85, 0.8, 0.02, 0.005), "cVAE": training(0.6, 0.8, 0, 0)})
    assert [f.as_expected for f in reversed_][:3] == [False, True, False]


def test_the_repair_chart_draws_each_runs_numbers_where_they_are():
    evals = bench(gan_box=0.05, vae_box=0.03)
    fig = repair_figure({role: e["repair"] for role, e in evals.items()})
    bars = {t.name: list(t.y) for t in fig.data}
    assert list(bars) == ["damaged input", "GAN by search", "VAE by search", "VAE by encoder"]
    assert bars["GAN by search"] == pytest.approx([13.0103, 16.9897], abs=1e-3)  # -10 log10(0.05), (0.02)
    assert bars["VAE by encoder"] == pytest.approx([-10 * math.log10(0.035), 13.9794], abs=1e-3)
    assert list(fig.data[1].x) == ["a box", "noise"]


def test_the_training_data_chart_draws_each_arm_with_its_spread():
    fig = training_data_figure({"cGAN": training(0.55, 0.8, 0.02, 0.0)})
    bar = fig.data[0]
    assert list(bar.x) == ["5,000 real", "5,000 generated", "500 real", "500 real + 5,000 generated"]
    assert list(bar.y) == pytest.approx([0.8, 0.55, 0.7, 0.72])
    assert list(bar.error_y.array) == pytest.approx([0, 0, 0, 0])
    assert fig.layout.yaxis.range == (0, 1)


@needs_fashion
def test_the_shipped_demos_findings_mark_what_their_numbers_say():
    def evaluation(run_id):
        return latest_evaluation(open_run(SHIPPED, run_id))
    gan, vae = evaluation("demo-dcgan-fashion"), evaluation("demo-vae-fashion")
    found = repair_findings({"GAN": gan, "VAE": vae})
    assert len(found) == 3
    for finding, damage in zip(found, ("box", "noise"), strict=False):
        best = {role: min(e["repair"][damage][m]["hidden_mse"] for m in ("search", "encoder") if m in e["repair"][
            damage]) for role, e in (("GAN", gan), ("VAE", vae))}
        assert finding.as_expected == (best["VAE"] < best["GAN"])
        assert f"{best['GAN']:.4f}" in finding.text and f"{best['VAE']:.4f}" in finding.text
    cgan, cvae = evaluation("demo-cdcgan-fashion"), evaluation("demo-cvae-fashion")
    found = training_data_findings({"cGAN": cgan, "cVAE": cvae})
    assert [f.as_expected for f in found[:3]] == [cgan["cas"] < cgan["cas_real"], cvae["cas"] < cvae["cas_real"],
                                                  cvae["cas"] > cgan["cas"]]
    for finding, e in zip(found[3:], (cgan, cvae), strict=True):
        assert finding.as_expected == (e["augmentation"]["gain"] > e["augmentation"]["gain_std"])


def texts(at):
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning") for e in getattr(at, kind))


@needs_fashion
def test_the_repair_page_repairs_the_damage_its_link_asks_for(demos_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS", str(demos_dir))
    at = open_page("repair")
    assert (at.selectbox(key="gan").value, at.selectbox(key="vae").value) == ("demo-dcgan-fashion", "demo-vae-fashion")
    table = at.dataframe[0].value
    assert list(table["images"]) == ["damaged input", "GAN: search for z", "VAE: search for z",
                                     "VAE: encoder imputation"]
    # a shared link opens the same damage (the browser test moves the controls and reads the URL)
    again = open_page("repair", damage="noise", sigma="0.2", first="9999")
    assert again.slider(key="sigma").value == pytest.approx(0.2)
    assert "Gaussian noise of sigma 0.2, test images 9992 to 9999" in texts(again)


@needs_fashion
@pytest.mark.parametrize("slug", ["repair", "training-data"])
def test_the_uses_lessons_show_their_evidence_and_findings(slug, demos_dir, monkeypatch):
    monkeypatch.setenv("GENLAB_RUNS", str(demos_dir))
    at = open_page("lessons", lesson=slug)
    shown = texts(at)
    assert at.title[0].value == LESSONS[slug].title
    marks = [m.value for m in at.markdown if m.value.startswith(":material/")]
    assert len(marks) == (3 if slug == "repair" else 5), shown
    assert len(at.get("plotly_chart")) == 1 and len(at.get("image")) >= 1 and not at.warning


def test_the_training_data_lesson_launches_its_conditional_runs(runs_dir):
    at = open_page("lessons", lesson="training-data")
    at.button(key="launch-training-data").click().run()
    assert not at.exception and "Launched" in at.success[0].value
    launched = {s.config.name: s.config for s in list_runs(runs_dir)}
    assert set(launched) == {"lesson-cas-cdcgan", "lesson-cas-cvae"}
    assert all(c.model.conditional for c in launched.values())
    assert {c.model.family for c in launched.values()} == {"gan", "vae"}
    for run_id in [s.run.id for s in list_runs(runs_dir)]:
        jobs.cancel(runs_dir, run_id)
