"""The colours of real and generated data, the same on every picture and figure: blue is
real, red is generated (the RdBu decision surface of the 2-D lab runs between the two)."""

from __future__ import annotations

REAL_RGB = (31, 119, 180)
GENERATED_RGB = (214, 39, 40)
# A few chosen points (a walk through latent space) drawn large over the rest.
MARKED_RGB = (20, 20, 20)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


# The colour of points by what they are, for pictures that show one kind over real data.
ROLES = {"generated": GENERATED_RGB, "real": REAL_RGB, "walk": MARKED_RGB}
REAL = hex_colour(REAL_RGB)
GENERATED = hex_colour(GENERATED_RGB)
