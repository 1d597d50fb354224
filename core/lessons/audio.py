"""Lessons of the audio lab: a sound as the model hears it (waveform → spectrogram → mel → MFCC), a CNN on
spectrograms raced against a recurrent net on frames, augmentation (SpecAugment, recording-like copies), robustness
to real recordings and few-shot teaching of a visitor's voice.

The lesson panel follows the CNN's run (tab 2's ``audio_cnn_job``): its challenges read that job's ``Config`` and
its ``View`` (the unseen test voices, clean and recording-like). "Set it up" puts settings into the page's
``PageConfig``, and the tests check them against the lab's ``Config``, so a step only sets what both share: the
language, SpecAugment, the recording-like copies and the seed (the analysis of tab 1 and the models' own settings
are named in the step's text instead)."""

from __future__ import annotations

from core.jobs import JobSnapshot
from core.labs.audio import Config, View

from . import Challenge, Lesson, Step

ROBUST = 0.90  # recording-like test accuracy of the CNN (the page's defaults end near 0.88–0.90)
ROBUST_COPIES = 3  # recording-like training copies the robust challenge's "Try it" sets (2 end at 0.90–0.915)
CLEAN = 0.98  # clean test accuracy of the un-augmented CNN …
FRAGILE = 0.85  # … while its recording-like accuracy stays below this


def _cnn_view(config: Config, snap: JobSnapshot) -> View | None:
    """The view of an English log-mel CNN's run that has trained all its epochs (None for any other run)."""
    view = snap.view
    if not (isinstance(config, Config) and config.kind == "cnn" and config.language == "en"
            and isinstance(view, View)):
        return None
    total = snap.total_steps or 0
    return view if total and view.step >= total else None


def robust_cnn(config: Config, snap: JobSnapshot) -> bool:
    """An English log-mel CNN, trained through all its epochs, at ≥ 90 % on the recording-like versions of the
    test voices (a room, a cheap microphone, background noise; voices never heard in training)."""
    view = _cnn_view(config, snap)
    return view is not None and view.recording_accuracy >= ROBUST


def clean_but_fragile(config: Config, snap: JobSnapshot) -> bool:
    """An English log-mel CNN trained without any augmentation (SpecAugment off, no recording-like copies) that
    aces the clean test voices (≥ 98 %) but stays below 85 % on their recording-like versions."""
    view = _cnn_view(config, snap)
    return (view is not None and not config.spec_augment and config.copies == 0
            and view.test_accuracy >= CLEAN and view.recording_accuracy < FRAGILE)


DEFAULTS = {"language": "en", "spec_augment": True, "copies": 1}  # the page's own shared training choices
BARE = {"language": "en", "spec_augment": False, "copies": 0}  # nothing but the clean synthetic clips

LESSONS = (
    Lesson("audio", "hearing", steps=(
        Step("waveform"),
        Step("mel"),
        Step("race", DEFAULTS),
        Step("augment", BARE),
        Step("robust", DEFAULTS | {"copies": ROBUST_COPIES}),
        Step("teach"),
    ), challenges=(
        Challenge("robust90", robust_cnn, DEFAULTS | {"copies": ROBUST_COPIES}),
        Challenge("fragile", clean_but_fragile, BARE),
    )),
)
