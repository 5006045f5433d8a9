"""Honest numbers for GAN vs VAE, computed offline (see report.py for the whole evaluation)."""

# One line of meaning for each number the app shows.
MEANINGS = {
    "fid": "Frechet distance between evaluator features of test data and of samples; lower is better. "
           "Read it against the real-vs-real floor.",
    "fid_floor": "FID between the training and test splits: what a perfect model would score.",
    "kid": "Kernel distance (unbiased MMD^2, cubic kernel) in the same features; lower is better, "
           "and unlike FID it has no bias from the sample size.",
    "kid_floor": "KID between the training and test splits.",
    "inception_score": "Inception Score in GenLab's evaluator (not Inception): exp E KL(p(y|x) || p(y)), "
                       "high when each sample is one clear class and the classes are spread; at most the "
                       "number of classes. Blind to variety within a class. ± its spread over 10 splits.",
    "inception_score_real": "The same score of the real test images: the ceiling for this evaluator.",
    "memorisation_ratio": "Median distance of samples to their nearest training image over that to their "
                          "nearest test image, in evaluator features: about 1 when the model generalises, "
                          "far below 1 when it copies its training data.",
    "precision": "Share of samples that fall inside the real data's manifold: quality.",
    "recall": "Share of real data inside the samples' manifold: diversity.",
    "density": "Like precision, but counts how many real neighbourhoods hold each sample (about 1 when matched).",
    "coverage": "Share of real neighbourhoods that hold at least one sample: mode coverage.",
    "classes_covered": "Classes the evaluator finds among the samples (each with a quarter of its fair share or more).",
    "kl_to_real": "KL from the samples' class histogram to the real one; 0 when the classes are balanced alike.",
    "modes_captured": "Modes with at least one high-quality sample (PacGAN protocol).",
    "high_quality": "Share of samples within 3 standard deviations of their nearest mode.",
    "elbo": "Test evidence lower bound, nats per sample (higher is better).",
    "iwae": "Importance-weighted bound on the test log-likelihood, nats per sample; tighter than the ELBO.",
    "recon": "Test reconstruction term -log p(x|z), nats per sample.",
    "kl": "Test KL(q(z|x) || p(z)), nats per sample: how much the code says about x.",
    "recon_mse": "Mean squared error of reconstructions from the posterior mean.",
    "evaluator_accuracy": "Test accuracy of the classifier whose features the distances use.",
}

NO_LIKELIHOOD = ("A GAN has no likelihood to report: its generator defines samples, not a density, "
                 "and there is no encoder to bound log p(x) with. Judge it by the sample metrics.")
