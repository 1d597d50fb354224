"""Audio lab in Chromium: a bundled clip is shown as waveform, STFT, mel spectrogram and MFCC with players for the
original and each augmentation; changing the view redraws; racing the two models shows live results; uploaded
clips of a new voice teach a trained model, whose held-out accuracy changes."""

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
    main = page.locator('[data-testid="stMain"]')
    page.get_by_role("tab", name="2 · Train CNN vs LSTM").click()
    page.get_by_role("button", name="Race both").first.click()
    # Each worker process first makes the training features (with the recording-like copies): the race chart is
    # there at once, each model's results once its trainer exists, the steps after that.
    main.get_by_text("Race: validation accuracy on unseen voices").first.wait_for(timeout=60_000)
    main.get_by_text("Test accuracy").first.wait_for(timeout=180_000)
    main.get_by_text("Confusion matrix (recording-like test voices)").nth(1).wait_for(timeout=180_000)  # both
    assert_no_exception(page)
    page.get_by_role("tab", name="3 · Recognise your voice").click()
    # The tab lists a model once it has taken a step and asks it between two steps (it retries every 3 s).
    main.get_by_text("hears", exact=False).first.wait_for(timeout=180_000)
    main.get_by_text("why “", exact=False).first.wait_for(timeout=60_000)
    assert_no_exception(page)
    # Runs left behind stop by themselves once nobody watches them (the e2e server's idle timeout is short).


def test_teach_it_your_voice_with_uploaded_clips(page, app_url, tmp_path):
    """Train a quick CNN to the end, upload 40 clips of a voice unlike the bundled ones (4 takes of each digit, 2 held
    out), teach it and see the held-out accuracy before and after; the taught model then answers in the "Recognise
    your voice" tab."""
    from core.data.audio import to_wav_bytes
    from tests.test_audio import new_speaker

    waves, digits = new_speaker(takes=4)
    files = []
    for i, (wave, digit) in enumerate(zip(waves, digits, strict=True)):
        path = tmp_path / f"{digit}_take{i}.wav"
        path.write_bytes(to_wav_bytes(wave))
        files.append(str(path))
    page.goto(f"{app_url}/audio_lab?copies=0&cnn_epochs=1&teach=all&teach_steps=60&teach_holdout=2")
    page.get_by_role("heading", name="Audio lab").wait_for(timeout=90_000)
    wait_until_idle(page)
    main = page.locator('[data-testid="stMain"]')
    page.get_by_role("tab", name="2 · Train CNN vs LSTM").click()
    page.get_by_role("button", name="Train").first.click()
    # Teaching starts from the model as it is when the button is pressed: wait for the base run's own status line
    # (in the page, not the sidebar's list of jobs) to say it finished.
    main.get_by_text("finished", exact=False).filter(visible=True).first.wait_for(timeout=240_000)
    main.get_by_text("Test accuracy").first.wait_for(timeout=30_000)
    page.get_by_role("tab", name="4 · Teach it your voice").click()
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="or upload clips")
    uploader.locator('input[type="file"]').set_input_files(files)
    page.get_by_text("40 clips: 20 to learn from, 20 held out", exact=False).wait_for(timeout=60_000)
    wait_until_idle(page)
    assert not main.get_by_text("finished", exact=False).filter(visible=True).count()  # no teaching run yet
    page.get_by_role("button", name="Teach it").click()
    mine = main.locator('[data-testid="stMetric"]').filter(has_text="Your held-out clips")
    mine.wait_for(timeout=120_000)
    # The teaching run's status line and its results are drawn together: once it says finished, the metric is
    # the one after the last step.
    main.get_by_text("finished", exact=False).filter(visible=True).first.wait_for(timeout=240_000)
    wait_until_idle(page)
    assert_no_exception(page)
    value = mine.locator('[data-testid="stMetricValue"]').inner_text()
    before, after = (int(part.strip().rstrip("%")) for part in value.split("→"))
    assert after >= before + 10, value
    page.screenshot(path=str(tmp_path / "audio_teach.png"), full_page=True)
    page.get_by_role("tab", name="3 · Recognise your voice").click()
    page.get_by_text("· your voice", exact=False).first.wait_for(timeout=90_000)
    assert_no_exception(page)
