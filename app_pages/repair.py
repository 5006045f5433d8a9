"""Repair: damage real test images and let a GAN and a VAE fill in or clean up what is left."""

import streamlit as st

from app_pages.components.repairs import SHOWN, benchmark, damage_controls, live_repairs
from app_pages.components.shared import controls, guard, image_runs, pick_gan_and_vae
from genlab.data import draws_images

HOW = ("Each model repairs by finding a code whose image agrees with the pixels that remain, and drawing the rest. "
       "A GAN has only its generator to search (gradient descent on z, the error counted on the visible pixels "
       "only). A VAE can be searched the same way, and it has an encoder: encode the damaged image, decode, put "
       "the known pixels back, repeat. For noise every pixel is seen and none is trusted, so the model's own "
       "image is the repair.")


def page() -> None:
    st.title("Repair images: GAN vs VAE")
    with controls("Runs and damage"):
        gan_run, vae_run = pick_gan_and_vae(image_runs())
        if gan_run is None or vae_run is None:
            st.info("Repair needs a GAN run and a VAE run of images with snapshots.")
            return
        how = damage_controls()
        first = int(st.number_input("First test image", 0, 9_999, 0, step=SHOWN, key="first", bind="query-params"))
    runs = {"GAN": gan_run, "VAE": vae_run}
    configs = [run.config().data for run in runs.values()]
    if not all(draws_images(d.name) for d in configs):
        st.info("These runs draw 2-D points: pick a GAN and a VAE trained on images to repair images.")
        return
    if configs[0].name != configs[1].name:
        st.warning(f"These runs trained on different data ({configs[0].name} and {configs[1].name}): each repairs "
                   "its own dataset's test images. Pick two runs on the same data to compare them.")
        for name, run in runs.items():
            live_repairs({name: run}, how, first)
    else:
        live_repairs(runs, how, first)
    st.caption(HOW)
    st.markdown("#### On the fixed benchmark")
    benchmark(runs, key="page")


guard(page)
