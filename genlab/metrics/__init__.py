"""Honest numbers for GAN vs VAE, computed offline: each module computes one family of
metrics, and `evaluate.evaluate_model` every one that applies to a model and its data. What
each number means, and how it is shown, is genlab.views.metric_info."""

NO_LIKELIHOOD = ("A GAN has no likelihood to report: its generator defines samples, not a density, "
                 "and there is no encoder to bound log p(x) with. Judge it by the sample metrics.")
