"""Training a run: the loop and what it needs.

    trainer    Trainer (the loop in named steps, snapshots, checkpoints, exact resume) and TrainState
    batches    seeded index slices of tensors on the device
    step_log   running means of step outputs between log lines, and the finite check
    device     cuda > mps > cpu, or as asked
    estimate   a config's step rate timed on this machine, durations in words
"""
