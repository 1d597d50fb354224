"""Audio lab in Chromium: a bundled clip is shown as waveform, STFT, mel spectrogram and MFCC with players for the
original and each augmentation; changing the view redraws; racing the two models shows live results."""

import pytest

from tests.e2e.conftest import assert_no_exception, open_page, wait_until_idle

pytestmark = pytest.mark.e2e


def open_lab(page, app_url):
    open_page(page, app_url, "audio_lab", "Audio lab")


def test_bundled_clip_shows_spectrograms_and_players(page, app_url, tmp_path):
    open_lab(page, app_url)
    page.get_by_text("Mel spectrogram · 40 bands × ", exact=False).first.wait_for(timeout=60_000)
    assert_no_exception(page)
    plots = page.locator(".js-plotly-plot")
    assert plots.count() >= 4  # waveform, STFT, mel, MFCC
    for title in ("Waveform · original", "STFT magnitude", "MFCC · 39 rows"):
        assert page.get_by_text(title, exact=False).count() >= 1, title
    assert page.locator(".js-plotly-plot .heatmaplayer, .js-plotly-plot image").count() >= 3  # drawn heatmaps
    assert page.locator("audio").count() >= 5  # the original and one player per augmentation
    assert page.get_by_text("frequency (Hz, mel scale)", exact=False).count() >= 1

    page.get_by_role("radiogroup", name="Show the features of").get_by_role("radio", name="noise").click()
    page.get_by_text("Waveform · noise", exact=False).first.wait_for(timeout=30_000)
    wait_until_idle(page)
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "audio_lab.png"), full_page=True)


def test_race_trains_both_models_live(page, app_url):
    open_lab(page, app_url)
    page.get_by_role("tab", name="2 · Train CNN vs LSTM").click()
    page.get_by_role("button", name="Race both").first.click()
    page.get_by_text("Test accuracy").first.wait_for(timeout=60_000)
    page.get_by_text("Confusion matrix (test voices)").first.wait_for(timeout=60_000)
    page.get_by_text("Race: validation accuracy on unseen voices").first.wait_for(timeout=60_000)
    assert_no_exception(page)
    page.get_by_role("tab", name="3 · Recognise your voice").click()
    page.get_by_text("hears", exact=False).first.wait_for(timeout=90_000)
    page.get_by_text("why “", exact=False).first.wait_for(timeout=30_000)
    assert_no_exception(page)
    # Runs left behind stop by themselves once nobody watches them (the e2e server's idle timeout is short).
