"""Real or generated? The class is the discriminator: one image at a time, real or made by a
run, and everyone says which; the results show which runs fooled people, beside their FID."""

import secrets

import streamlit as st

from app_pages.components.login import current_user
from app_pages.components.round_view import show_results
from app_pages.components.shared import controls, drawn_width, guard, image_runs, model_at, run_dataset, runs_dir
from genlab import settings
from genlab.classroom.access import NotAllowed
from genlab.config import SEED_MAX
from genlab.store.runs import RunError, open_run
from genlab.teaching import rounds
from genlab.views.overview import comparison_pair
from genlab.views.pictures import image_grid, png_bytes

WAITING_EVERY_S = 4  # how often a page without an open round looks for one


def player() -> str:
    """Who answers: the logged-in name, else (outside a class) this tab's own anonymous name."""
    user = current_user()
    return user.name if user else st.session_state.setdefault("round-player", f"guest-{secrets.token_hex(4)}")


@st.cache_resource(max_entries=1024, show_spinner=False)
def image_png(round_id: str, item: int, width: int, _found: rounds.Round) -> bytes:
    """One image of a round as PNG, made once for every session (everyone sees the same)."""
    entry = _found.items[item]
    if entry.source == rounds.REAL:
        image = rounds.item_image(entry, test_images(_found))
    else:
        image = rounds.item_image(entry, None, model_at(open_run(runs_dir(), entry.source),
                                                         _found.runs[entry.source])[0]).detach().cpu()
    return png_bytes(image_grid(image[None], nrow=1, scale=max(1, width // image.shape[-1])))


def test_images(found: rounds.Round):
    """The test images of the round's data, from the first of its runs that can still be read."""
    for run_id in found.runs:
        try:
            return run_dataset(open_run(runs_dir(), run_id)).x_test
        except RunError:
            continue
    raise RunError("none of this round's runs can be read any more")


def judge(round_id: str, item: int, said: str, who: str) -> None:
    """A button's callback: record the answer (a second one is ignored) and keep what to say of
    it. In a class the roster decides at the click whether this member may still answer."""
    if settings.class_mode() and current_user() is None:
        return
    try:
        rounds.answer(runs_dir(), round_id, who, item, said, current_user())
    except (rounds.RoundError, NotAllowed) as exc:
        st.session_state["round-said"] = (round_id, item, said, str(exc))
        return
    st.session_state["round-said"] = (round_id, item, said, None)


def last_answer(found: rounds.Round) -> None:
    """Right or wrong, and which run made a generated image, for the answer just given."""
    said = st.session_state.get("round-said")
    if not said or said[0] != found.id:
        return
    _, item, answer, refused = said
    if refused:
        st.warning(refused)
        return
    source = found.items[item].source
    truth = "a real test image" if source == rounds.REAL else f"made by {source}"
    if (answer == rounds.REAL) == (source == rounds.REAL):
        st.success(f"Right: image {item + 1} was {truth}.")
    else:
        st.error(f"Wrong: image {item + 1} was {truth}.")


def next_image(found: rounds.Round, answers: list[dict], who: str) -> tuple[int | None, bytes | None]:
    """The next image to judge and its picture; an image whose run cannot make it any more
    (deleted or broken since the round started) is skipped, with a message."""
    skipped = st.session_state.setdefault(f"round-skipped-{found.id}", set())
    while (item := rounds.next_item(found, answers, who, frozenset(skipped))) is not None:
        try:
            return item, image_png(found.id, item, drawn_width(360), found)
        except (RunError, OSError) as exc:
            st.warning(f"Image {item + 1} is skipped: its run {found.items[item].source} cannot make it now ({exc}).")
            skipped.add(item)
    return None, None


def play(found: rounds.Round) -> None:
    """The next image this person has not judged, the two buttons and their running score."""
    who = player()
    answers = rounds.read_answers(runs_dir(), found.id)
    mine = rounds.results(found, [a for a in answers if a["user"] == who])
    last_answer(found)
    item, png = next_image(found, answers, who)
    if item is None:
        st.info(f"You have judged all {len(found.items)} images of this round: {mine.correct} right. The results come "
                "when the teacher closes the round.")
        return
    st.markdown(f"**Image {item + 1} of {len(found.items)}** · your score: {mine.correct} of {mine.answers}")
    st.image(png, width="content", output_format="PNG")
    c1, c2 = st.columns(2)
    c1.button("Real", key="say-real", shortcut="left", icon=":material/photo_camera:", width="stretch",
              on_click=judge, args=(found.id, item, "real", who))
    c2.button("Generated", key="say-generated", shortcut="right", icon=":material/auto_awesome:", width="stretch",
              on_click=judge, args=(found.id, item, "generated", who))
    st.caption("Keys: ← for real, → for generated.")


def start_form() -> None:
    """The teacher's (or, outside a class, anyone's) form that starts a round."""
    runs = image_runs()
    if not runs:
        st.info("A round needs runs of images with snapshots: train one on the Train page.")
        return
    pair = comparison_pair(runs)
    with st.form("start-round"):
        chosen = st.multiselect("Runs whose images to mix in", [s.run.id for s in runs],
                                default=[s.run.id for s in pair] if pair else [runs[0].run.id])
        c1, c2 = st.columns(2)
        images = c1.slider("Images in the round (half real)", 10, 100, 20, 2)
        seed = int(c2.number_input("Seed (the order of the images)", 0, SEED_MAX, 0))
        if st.form_submit_button("Start the round", type="primary"):
            start(chosen, images, seed)


def start(chosen: list[str], images: int, seed: int) -> None:
    try:
        test_size = len(run_dataset(open_run(runs_dir(), chosen[0])).x_test) if chosen else 0
        _, skipped = rounds.start_round(runs_dir(), chosen, images, seed, current_user(), test_size)
    except (rounds.RoundError, NotAllowed) as exc:
        st.error(str(exc))
        return
    for message in skipped:
        st.warning(message)
    st.rerun()


def waiting(found: rounds.Round | None) -> None:
    """Without an open round: polls for one (a student's page turns into the game when the
    teacher starts it), and redraws the whole page when one opens."""
    now = rounds.current_round(runs_dir())
    if now is not None and now.is_open and (found is None or now.id != found.id):
        st.rerun()


def page() -> None:
    st.title("Real or generated?")
    found = rounds.current_round(runs_dir())
    leads = rounds.may_lead(runs_dir(), current_user())
    if found is not None and found.is_open:
        play(found)
        if leads:
            with controls("The round (teacher)"):
                st.caption(f"{found.id}: {len(found.items)} images from {', '.join(found.runs)}, seed {found.seed}.")
                if st.button("Close the round", key="close-round"):
                    rounds.close_round(runs_dir(), found.id, current_user())
                    st.rerun()
            st.subheader("Results so far")
            st.fragment(show_results, run_every=3)(runs_dir(), found, "live")
        return
    if leads:
        with controls("Start a round"):
            start_form()
    elif not leads:
        st.info("No round is open. When the teacher starts one it appears here by itself.")
        st.fragment(waiting, run_every=WAITING_EVERY_S)(found)
    if found is not None:
        st.subheader(f"Results of the last round ({found.id})")
        show_results(runs_dir(), found, "closed")


guard(page)
