"""Make the bundled spoken-digits set with the Debian ``espeak-ng`` speech synthesiser.

Each clip is one digit word ("zero" … "nine", and 零 … 九 with a Mandarin voice) spoken by one synthetic
*voice* (an espeak-ng accent plus a voice variant) at one speed (words per minute) and pitch (0–99).
Clips are resampled to 8 kHz mono with a fixed polyphase filter, trimmed of leading and trailing
silence, peak-normalised, rounded to 11-bit resolution and written as 16-bit FLAC next to a
``manifest.csv`` listing ``file, language, digit, word, voice, speed, pitch, split, samples`` for every clip
and a ``meta.json`` (espeak-ng version, sample rate).

The split is by voice (speaker-independent): validation and test voices use accents and variants never
heard in training. The output is byte-for-byte deterministic for a given espeak-ng version.

Only this script needs espeak-ng; the app and the tests read the committed files.

    python scripts/make_spoken_digits.py                 # regenerate assets/spoken_digits/
    python scripts/make_spoken_digits.py --out /tmp/sd --voices en-us+m1 --digits 0 1 --speeds 150 --pitches 50
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "assets" / "spoken_digits"
SAMPLE_RATE = 8000
ESPEAK_RATE = 22050  # espeak-ng's native output rate
TRIM_DB = 40.0  # frames quieter than peak − 40 dB at either end are silence
MARGIN_S = 0.03  # silence kept either side of the word
PEAK = 0.9

FIELDS = ["file", "language", "digit", "word", "voice", "speed", "pitch", "split", "samples"]
WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "zh": ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"],
}

# A voice = an espeak-ng accent + a voice variant (timbre, pitch range, formants). Every variant is used by exactly
# one voice, so validation and test voices have timbres that training never hears.
VOICES: dict[str, dict[str, list[str]]] = {
    "en": {
        "train": ["en-us+m1", "en-gb+m2", "en-gb-x-rp+m3", "en-gb-x-gbclan+m4", "en-029+m7", "en-gb-x-gbcwmd+m8",
                  "en-gb-scotland+f1", "en-us-nyc+f2", "en-us+f3", "en-gb+f4", "en-gb-x-rp+klatt2",
                  "en-gb-x-gbclan+klatt3", "en-029+Alex", "en-gb-x-gbcwmd+Alicia", "en-gb-scotland+Andy",
                  "en-us-nyc+Annie", "en-us+adam", "en-gb+anika", "en-gb-x-rp+aunty", "en-gb-x-gbclan+belinda",
                  "en-029+benjamin", "en-gb-x-gbcwmd+boris", "en-gb-scotland+caleb", "en-us-nyc+david"],
        "val": ["en-gb-x-gbclan+edward", "en-us+Gene", "en-gb-x-gbcwmd+john", "en-029+linda"],
        "test": ["en-us-nyc+m5", "en-gb-scotland+f5", "en-029+Hugo", "en-gb-x-rp+steph", "en-gb+max", "en-us+victor"],
    },
    "zh": {
        "train": ["cmn+m1", "cmn+f1", "cmn+m3", "cmn+f2", "cmn+klatt", "cmn+m7", "cmn+Annie"],
        "val": ["cmn+m4", "cmn+f4"],
        "test": ["cmn+m5", "cmn+f5"],
    },
}
# Each voice says every digit at len(PITCHES) settings: pitch k goes with speed (voice index + k) mod len(SPEEDS),
# a Latin square that covers every speed with every pitch across voices while keeping the set small.
SPEEDS = {"en": [120, 155, 190], "zh": [120, 170]}  # words per minute (espeak-ng -s; its default is 175)
PITCHES = {"en": [30, 55, 80], "zh": [35, 65]}  # espeak-ng -p, 0-99 (default 50)
BITS = 11  # amplitude resolution kept (≈ 66 dB): the 4 zero low bits of each 16-bit sample cost FLAC nothing


def settings(language: str, voice_index: int) -> list[tuple[int, int]]:
    """The (speed, pitch) pairs one voice speaks at."""
    speeds, pitches = SPEEDS[language], PITCHES[language]
    return [(speeds[(voice_index + k) % len(speeds)], pitch) for k, pitch in enumerate(pitches)]


def espeak_version() -> str:
    """The espeak-ng version line, e.g. ``1.51``."""
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    parts = out.split()
    return parts[parts.index("text-to-speech:") + 1] if "text-to-speech:" in parts else out.strip()


def synthesise(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """Raw espeak-ng output for ``word`` at 22.05 kHz as float64 in [-1, 1]."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), word],
                       check=True, capture_output=True)
        data, rate = sf.read(path, dtype="float64", always_2d=True)
    if rate != ESPEAK_RATE:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz audio, expected {ESPEAK_RATE} Hz")
    return data.mean(axis=1)


def finish(wave: np.ndarray) -> np.ndarray:
    """Resample to 8 kHz, trim silence (keeping a short margin), peak-normalise, quantise to int16."""
    y = resample_poly(wave, 160, 441)  # 22050 · 160 / 441 = 8000
    frame = 160  # 20 ms
    n = len(y) // frame
    if n == 0:
        raise RuntimeError("espeak-ng produced an empty clip")
    energy = np.sqrt(np.mean(y[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(energy / energy.max()) > -TRIM_DB)
    margin = int(MARGIN_S * SAMPLE_RATE)
    start = max(0, loud[0] * frame - margin)
    stop = min(len(y), (loud[-1] + 1) * frame + margin)
    y = y[start:stop]
    y = y * (PEAK / np.abs(y).max())
    step = 2 ** (16 - BITS)
    return (np.round(y * 32767 / step) * step).astype(np.int16)


def flac_bytes(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)
    return buf.getvalue()


def clip_name(language: str, digit: int, voice: str, speed: int, pitch: int) -> str:
    return f"{language}/{digit}_{voice.replace('+', '_')}_s{speed}_p{pitch}.flac"


def make(out: Path, languages: list[str], *, voices: list[str] | None = None, digits: list[int] | None = None,
         speeds: list[int] | None = None, pitches: list[int] | None = None, quiet: bool = False) -> dict:
    """Write the clips and ``manifest.csv`` and ``meta.json`` under ``out``; returns the manifest.

    ``voices`` / ``digits`` keep a subset; ``speeds`` / ``pitches`` replace each voice's settings by their grid.
    """
    clips = []
    for language in languages:
        all_voices = [(split, voice) for split, names in VOICES[language].items() for voice in names]
        for index, (split, voice) in enumerate(all_voices):
            if voices and voice not in voices:
                continue
            if speeds or pitches:
                grid = [(s, p) for s in speeds or SPEEDS[language] for p in pitches or PITCHES[language]]
            else:
                grid = settings(language, index)
            for digit, word in enumerate(WORDS[language]):
                if digits is not None and digit not in digits:
                    continue
                for speed, pitch in grid:
                    samples = finish(synthesise(word, voice, speed, pitch))
                    name = clip_name(language, digit, voice, speed, pitch)
                    (out / name).parent.mkdir(parents=True, exist_ok=True)
                    (out / name).write_bytes(flac_bytes(samples))
                    clips.append({"file": name, "language": language, "digit": digit, "word": word, "voice": voice,
                                  "speed": speed, "pitch": pitch, "split": split, "samples": len(samples)})
        if not quiet:
            counts = {s: sum(c["split"] == s and c["language"] == language for c in clips) for s in VOICES[language]}
            print(f"{language}: {counts} clips", file=sys.stderr)
    meta = {
        "description": "Spoken digits synthesised with espeak-ng by scripts/make_spoken_digits.py; split by voice "
                       "(validation and test voices are never heard in training).",
        "espeak_ng": espeak_version(),
        "sample_rate": SAMPLE_RATE,
        "bits": BITS,
        "clips": len(clips),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(clips)
    manifest = dict(meta, clips=clips)
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--languages", nargs="+", default=["en", "zh"], choices=sorted(WORDS))
    parser.add_argument("--voices", nargs="+", help="only these voices (e.g. en-us+m1)")
    parser.add_argument("--digits", nargs="+", type=int, help="only these digits")
    parser.add_argument("--speeds", nargs="+", type=int, help="override the speeds (words per minute)")
    parser.add_argument("--pitches", nargs="+", type=int, help="override the pitches (0-99)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    subset = any([args.voices, args.digits, args.speeds, args.pitches])
    if args.out.exists() and not subset:
        for language in args.languages:  # no stale clips from an earlier voice list
            shutil.rmtree(args.out / language, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = make(args.out, args.languages, voices=args.voices, digits=args.digits, speeds=args.speeds,
                    pitches=args.pitches, quiet=args.quiet)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    if not args.quiet:
        print(f"{len(manifest['clips'])} clips, {size / 1e6:.2f} MB in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
