"""The run store: the runs folder and everything that reads or writes it.

    runs         the run directory (its docstring lists every file), tolerant readers, listing
    lifecycle    a run's states and the one way status.json changes: compare-and-set under its lock
    evaluations  a run's eval.json, added to by an atomic read-merge-replace
    snapshots    a run's weights at a step (and the picture beside them); a model loaded back
    statefile    nested training state in one safetensors file, no pickle
    atomic       the one way a file is replaced (temp file, fsync, rename, fsync of the folder)
    locks        the one file lock (flock) every read-check-write holds
    jsonfile     a JSON object read back with one clear message for each way it can be broken
    faults       named points where tests make a process crash or see a full disk
"""
