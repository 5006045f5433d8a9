"""What the pages show, computed in genlab: progress, the runs to look at, the fair GAN/VAE
pair, latent dimensions by KL, an evaluation's rows, and where an upload is kept."""

import pytest

from genlab.classroom.uploads import store_upload
from genlab.data import DatasetError
from genlab.data.folder import load_folder
from genlab.models import build_model
from genlab.models.latent import dims_by_kl
from genlab.presets import fit_batch, make_config
from genlab.store.evaluations import record_evaluation
from genlab.store.runs import create_run, list_runs
from genlab.store.snapshots import save_snapshot
from genlab.views.metric_info import fid_line, metric_rows
from genlab.views.overview import comparison_pair, folder_note, progress, viewable_runs
from genlab.views.pictures import snapshot_png
from tests.support import tiny_config


def test_progress_of_a_fresh_a_running_and_a_broken_status():
    assert progress({}).fraction == 0 and progress({}).total == 1
    p = progress({"step": 250, "total_steps": 1000, "elapsed_s": 3725.4})
    assert (p.step, p.total, p.fraction, p.elapsed) == (250, 1000, 0.25, "01:02:05")
    assert progress({"step": 12, "total_steps": 10}).fraction == 1.0


def make(runs_dir, variant, dataset, latent, snapshot=True, **extra):
    config = tiny_config(variant, dataset, latent_dim=latent, **extra)
    run = create_run(runs_dir, config)
    if snapshot:
        model = build_model(config.model, (2,), 0)
        save_snapshot(run, model, 0, snapshot_png(model))
    return run


def test_the_pair_to_compare_shares_the_data_and_if_it_can_the_latent_size(runs_dir):
    make(runs_dir, "gan", "ring", 2)
    make(runs_dir, "vae", "moons", 2)  # other data: never paired with the ring GAN
    assert comparison_pair(viewable_runs(list_runs(runs_dir))) is None
    vae_4 = make(runs_dir, "vae", "ring", 4)
    gan, vae = comparison_pair(viewable_runs(list_runs(runs_dir)))
    assert (gan.config.model.family, vae.run.id) == ("gan", vae_4.id)
    vae_2 = make(runs_dir, "vae", "ring", 2)
    make(runs_dir, "vae", "ring", 8)  # the newest, but its latent differs from the GAN's
    assert comparison_pair(viewable_runs(list_runs(runs_dir)))[1].run.id == vae_2.id
    make(runs_dir, "vae", "ring", 2, beta=4.0)  # newer, same latent, but a beta-VAE
    assert comparison_pair(viewable_runs(list_runs(runs_dir)))[1].run.id == vae_2.id


def test_the_home_page_pairs_the_dcgan_demo_with_the_plain_vae(demos_dir):
    """#12: the Compare shortcut paired the DCGAN with the beta 4 VAE."""
    gan, vae = comparison_pair(viewable_runs(list_runs(demos_dir)))
    assert (gan.run.id, vae.run.id) == ("demo-dcgan-fashion", "demo-vae-fashion")


def test_only_runs_with_a_snapshot_are_viewable(runs_dir):
    shown = make(runs_dir, "gan", "ring", 2)
    make(runs_dir, "vae", "ring", 2, snapshot=False)
    assert len(list_runs(runs_dir)) == 2
    assert [s.run.id for s in viewable_runs(list_runs(runs_dir))] == [shown.id]
    assert viewable_runs(list_runs(runs_dir), family="vae") == []


def test_latent_dimensions_in_order_of_their_kl():
    records = [{"step": 1, "kl_per_dim": [0.0, 9.0, 1.0]}, {"step": 2}, {"step": 3, "kl_per_dim": [5.0, 0.1, 2.0]}]
    assert dims_by_kl(records, 3) == [0, 2, 1]  # the last line with KL per dimension
    assert dims_by_kl(records, 4) is None and dims_by_kl([{"step": 1}], 3) is None


def test_evaluation_rows_carry_values_and_meanings(runs_dir):
    entry = {"fid": 12.3456, "fid_floor": 0.5, "modes_captured": 7, "modes_total": 8, "iwae": -80.0, "iwae_k": 50,
             "feature_space": "x"}
    rows = metric_rows(entry)
    assert [r["metric"] for r in rows] == ["Modes captured", "FID", "FID floor", "IWAE bound (k=50)"]
    assert rows[0]["value"] == "7 of 8" and rows[1]["value"] == "12.35" and all(r["meaning"] for r in rows)
    assert [r["metric"] for r in metric_rows(entry, only=("fid",))] == ["FID"]
    run = make(runs_dir, "gan", "ring", 2)
    assert fid_line(run).endswith("not evaluated")
    record_evaluation(run, 0, {"fid": 40.04, "fid_floor": 1.26})
    assert fid_line(run) == f"{run.id}: FID 40.0 (real-vs-real floor 1.3)"


def test_an_upload_is_kept_once_by_its_content_under_the_users_name(isolated_dirs):
    first = store_upload(b"PK fake zip", "My shapes.zip")
    assert first.read_bytes() == b"PK fake zip" and first.name == "My_shapes.zip"
    assert store_upload(b"PK fake zip", "My shapes.zip") == first
    other = store_upload(b"another", "My shapes.zip")
    assert other != first and other.name == first.name
    assert len(list(first.parent.parent.iterdir())) == 2


@pytest.mark.parametrize("sent", ["../../etc/passwd", ".hidden.zip", "a/b\\c.zip", "", "x" * 300 + ".zip"])
def test_an_upload_name_from_the_browser_cannot_leave_its_folder(isolated_dirs, sent):
    path = store_upload(b"PK", sent)
    assert path.parent.parent.name == "uploads" and path.suffix == ".zip"
    assert not path.name.startswith(".") and len(path.name) <= 60


def test_a_broken_upload_is_named_as_the_user_named_it(isolated_dirs):
    path = store_upload(b"not a zip at all", "holiday photos.zip")
    with pytest.raises(DatasetError, match="holiday_photos.zip is not a readable zip archive"):
        load_folder(path)

def test_what_became_of_a_users_files_is_said_in_one_line(isolated_dirs):
    import io
    import zipfile

    from PIL import Image

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        for i in range(12):
            png = io.BytesIO()
            Image.new("L", (8, 8), 20 * i).save(png, format="PNG")
            zf.writestr(f"{'dark' if i < 6 else 'light'}/{i}.png", png.getvalue())
        zf.writestr("dark/notes.txt", "not an image")
    data = load_folder(store_upload(raw.getvalue(), "my shapes.zip"))
    assert folder_note(data.info()) == ("my_shapes.zip: 12 images (11 to train on, 1 held out for the metrics) "
                                        "in 2 classes (dark, light); 1 file(s) skipped: 1 not a readable image "
                                        "(dark/notes.txt).")


def test_a_small_upload_gets_a_batch_that_fits():
    config = make_config("dcgan", "folder", path="x.zip")
    assert fit_batch(config, 108).optim.batch_size == 108
    assert fit_batch(config, 5000) is config
    assert fit_batch(make_config("pacgan2", "ring"), 101).optim.batch_size == 100  # a multiple of pack 2


def test_the_class_experiment_puts_each_evaluated_run_at_its_setting_and_metric(demos_dir):
    from genlab.views.overview import class_row, experiment_points

    summaries = list_runs(demos_dir)
    rows = [class_row(s) for s in summaries]
    points = experiment_points(rows, "conv-vae", "fashion-mnist", "beta", "fid")
    fids = {s.run.id: s.run.evaluations()[-1]["fid"] for s in summaries}
    assert sorted((p["x"], p["y"], p["run"]) for p in points) == [
        (1.0, fids["demo-vae-fashion"], "demo-vae-fashion"),
        (4.0, fids["demo-beta4-vae-fashion"], "demo-beta4-vae-fashion")]
    assert {p["user"] for p in points} == {"demo"}
    assert experiment_points(rows, "dcgan", "fashion-mnist", "latent size", "elbo") == []  # a GAN has no ELBO


def test_a_conditional_run_of_an_unconditional_variant_is_its_own_model_in_the_class_view(demos_dir):
    """#26: the conditional conv VAE sat among the plain conv VAEs of the class experiment."""
    from genlab.views.overview import class_row

    rows = {s.run.id: class_row(s) for s in list_runs(demos_dir)}
    assert rows["demo-cvae-fashion"]["model"] == "conv-vae, conditional"
    assert rows["demo-vae-fashion"]["model"] == "conv-vae" and rows["demo-cdcgan-fashion"]["model"] == "cdcgan"
    cas = next(s for s in list_runs(demos_dir) if s.run.id == "demo-cdcgan-fashion").run.evaluations()[-1]["cas"]
    assert rows["demo-cdcgan-fashion"]["cas"] == cas and rows["demo-gan-ring"]["cas"] is None


def test_the_class_experiment_starts_on_the_model_with_the_most_runs():
    from genlab.views.overview import experiment_pairs

    rows = [{"model": m, "dataset": d} for m, d in [("cdcgan", "fm"), ("vae", "fm"), ("vae", "fm"), ("dcgan", "fm"),
                                                    ("vae", "digits"), ("dcgan", "fm")]]
    assert experiment_pairs(rows) == [("dcgan", "fm"), ("vae", "fm"), ("cdcgan", "fm"), ("vae", "digits")]
