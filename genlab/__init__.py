"""GenLab: train small GANs and VAEs and compare them side by side."""

__version__ = "0.1.0"
