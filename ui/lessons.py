"""The lesson panel every lab page can show: a guided tour (step by step, "set it up for me") and challenges that
tick themselves off when the visitor's real run meets them. Progress is kept in the session and in the address bar
(``lesson``, ``lstep``, ``done``), so a shared link opens the same lesson at the same step."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.lessons import Lesson, lessons_for

from .i18n import t
from .jobs import current_job
from .live import live
from .settings import Form

LESSON, STEP, DONE = "lesson", "lstep", "done"


def _done() -> set[str]:
    """Challenges completed in this session (``<lesson>.<challenge>``), starting from the link's ``done``."""
    if "_lessons_done" not in st.session_state:
        given = st.query_params.get(DONE, "")
        st.session_state["_lessons_done"] = {d for d in given.split(",") if d}
    return st.session_state["_lessons_done"]


def _remember_done(lesson: Lesson, key: str) -> None:
    done = _done()
    done.add(f"{lesson.key}.{key}")
    st.query_params[DONE] = ",".join(sorted(done))


def _go(lesson: Lesson, step: int) -> None:
    st.query_params[LESSON], st.query_params[STEP] = lesson.key, str(step)


def _set_up(form: Form, settings: dict) -> None:
    form.apply(replace(form.config(), **settings))


def lesson_panel(lab: str, form: Form, job_key: str) -> None:
    """The lab's lessons in an expander (open when the link names a lesson)."""
    lessons = lessons_for(lab)
    if not lessons:
        return
    by_key = {lesson.key: lesson for lesson in lessons}
    lesson = by_key.get(st.query_params.get(LESSON, ""), lessons[0])
    try:
        index = min(max(int(st.query_params.get(STEP, "0")), 0), len(lesson.steps) - 1)
    except ValueError:
        index = 0
    done = _done()
    n_done = sum(f"{lesson.key}.{c.key}" in done for c in lesson.challenges)
    title = t("common.lessons.title", name=t(lesson.text("title")), step=index + 1, steps=len(lesson.steps),
              done=n_done, challenges=len(lesson.challenges))
    with st.expander(title, icon=":material/school:", expanded=LESSON in st.query_params):
        if len(lessons) > 1:
            chosen = st.selectbox(t("common.lessons.pick"), list(by_key), index=list(by_key).index(lesson.key),
                                  format_func=lambda k: t(by_key[k].text("title")), key=f"{lab}_lesson_pick")
            if chosen != lesson.key:
                _go(by_key[chosen], 0)
                st.rerun()
        step = lesson.steps[index]
        tour, goals = st.columns([3, 2], gap="large")
        with tour:
            st.markdown(t("common.lessons.step", step=index + 1, steps=len(lesson.steps),
                          text=t(lesson.text(f"{step.key}.do"))))
            st.markdown(t("common.lessons.watch", text=t(lesson.text(f"{step.key}.watch"))))
            st.info(t(lesson.text(f"{step.key}.ask")), icon=":material/help:")
            cols = st.columns(3)
            cols[0].button(t("common.lessons.previous"), icon=":material/arrow_back:", key=f"{lab}_lesson_prev",
                           disabled=index == 0, on_click=_go, args=(lesson, index - 1), width="stretch")
            cols[1].button(t("common.lessons.set_up"), icon=":material/auto_fix_high:", key=f"{lab}_lesson_setup",
                           disabled=not step.settings, on_click=_set_up, args=(form, step.settings), width="stretch",
                           help=t("common.lessons.set_up_help"))
            cols[2].button(t("common.lessons.next"), icon=":material/arrow_forward:", key=f"{lab}_lesson_next",
                           disabled=index == len(lesson.steps) - 1, on_click=_go, args=(lesson, index + 1),
                           width="stretch")
        with goals:
            _challenges(lab, lesson, form, job_key)


def _challenges(lab: str, lesson: Lesson, form: Form, job_key: str) -> None:
    if not lesson.challenges:
        return
    st.markdown(t("common.lessons.challenges"))
    job = current_job(job_key)

    def draw() -> bool:
        job = current_job(job_key)
        snap = job.snapshot() if job is not None else None
        passed = lesson.passed(getattr(job, "config", None), snap)
        done = _done()
        new = [c for c in lesson.challenges if c.key in passed and f"{lesson.key}.{c.key}" not in done]
        for challenge in new:
            _remember_done(lesson, challenge.key)
            st.toast(t("common.lessons.passed", goal=t(lesson.text(f"{challenge.key}.goal"))),
                     icon=":material/emoji_events:")
        if new:
            st.rerun()  # the whole page: the lesson's tally in its title changes too
        for challenge in lesson.challenges:
            key = f"{lesson.key}.{challenge.key}"
            mark = ":green[:material/check_circle:]" if key in _done() else ":gray[:material/radio_button_unchecked:]"
            row = st.columns([6, 2], vertical_alignment="center")
            row[0].markdown(f"{mark} {t(lesson.text(f'{challenge.key}.goal'))}",
                            help=t(lesson.text(f"{challenge.key}.hint")))
            row[1].button(t("common.lessons.try"), key=f"{lab}_challenge_{challenge.key}", on_click=_set_up,
                          args=(form, challenge.settings), disabled=not challenge.settings, width="stretch")
        return snap is not None and snap.state.active

    live(draw, active=job is not None and job.state.active, every=1.0)
