"""Make the bundled spoken-digits set with the Debian ``espeak-ng`` speech synthesiser.

Each clip is one digit word ("zero" … "nine", and 零 … 九 with a Mandarin voice) spoken by one synthetic
*voice* (an espeak-ng accent plus a voice variant) at one speed (words per minute), pitch (0–99) and, in English,
intonation (statement, question, list, exclamation). English uses all eight espeak-ng accents and every voice
variant. Clips are resampled to 8 kHz mono with a fixed polyphase filter, trimmed of leading and trailing silence,
peak-normalised and rounded to 10-bit resolution. Each voice's clips are written back to back into one 16-bit FLAC
file (a few hundred files instead of thousands of tiny ones), next to a ``manifest.csv`` listing
``file, language, split, voice, digit, word, speed, pitch, tone, start, samples`` for every clip (``start``: its
first sample in the file) and a ``meta.json`` (espeak-ng version, sample rate).

The split is by voice variant (speaker-independent): validation and test variants are never heard in training, in
any accent. The output is byte-for-byte deterministic for a given espeak-ng version.

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
import zlib
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

FIELDS = ["file", "language", "split", "voice", "digit", "word", "speed", "pitch", "tone", "start", "samples"]
WORDS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "zh": ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"],
}

# A voice = an espeak-ng accent + a voice variant (timbre, pitch range, formants).
#
# English uses every accent and every variant espeak-ng has. The split is by variant: the validation and test
# variants (and their near-namesakes, e.g. steph, steph2, steph3) are never heard in training, in any accent. Each
# variant speaks with three accents (rotating through the eight), and each voice says every digit once at its own
# speed, pitch and intonation, drawn from a generator seeded by the voice and digit.
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
HELD_OUT = {
    "val": ["edward", "edward2", "Gene", "Gene2", "john", "linda"],
    "test": ["m5", "f5", "Hugo", "steph", "steph2", "steph3", "max", "victor"],
}
ACCENTS_PER_VARIANT = 3
DEFAULT_VARIANT = "default"  # the accent's own voice, no variant
SPEEDS_EN = [110, 130, 150, 170, 190, 215]  # words per minute (espeak-ng -s; its default is 175)
PITCHES_EN = [20, 35, 50, 65, 80]  # espeak-ng -p, 0-99 (default 50)
# Punctuation after the word changes espeak-ng's intonation contour: a falling statement, a rising question, the
# level "list" tone and an emphatic exclamation. (espeak-ng's word gap, -g, only adds a pause after the last word,
# which trimming removes, so it would make identical clips.)
TONES = {"statement": ".", "question": "?", "list": ",", "exclamation": "!"}

# Mandarin: a voice per variant, each saying every digit at len(PITCHES) settings.
VOICES: dict[str, dict[str, list[str]]] = {
    "zh": {
        "train": ["cmn+m1", "cmn+f1", "cmn+m3", "cmn+f2", "cmn+klatt", "cmn+m7", "cmn+Annie"],
        "val": ["cmn+m4", "cmn+f4"],
        "test": ["cmn+m5", "cmn+f5"],
    },
}
# Pitch k goes with speed (voice index + k) mod len(SPEEDS), a Latin square that covers every speed with every
# pitch across voices while keeping the set small.
SPEEDS = {"zh": [120, 170]}
PITCHES = {"zh": [35, 65]}
BITS = 10  # amplitude resolution kept (≈ 60 dB): the 6 zero low bits of each 16-bit sample cost FLAC nothing


def variants() -> list[str]:
    """Every espeak-ng voice variant (the names ``-v <accent>+<variant>`` takes), sorted, after the default."""
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    names = sorted({line[line.index("!v/") + 3:].strip() for line in out.splitlines() if "!v/" in line})
    return [DEFAULT_VARIANT, *names]


def english_voices() -> list[tuple[str, str, str]]:
    """(split, voice, variant) of every English voice; a voice is ``<accent>+<variant>`` (the accent alone for the
    default variant)."""
    split_of = {v: split for split, names in HELD_OUT.items() for v in names}
    out = []
    for i, variant in enumerate(variants()):
        for k in range(ACCENTS_PER_VARIANT):
            accent = ACCENTS[(ACCENTS_PER_VARIANT * i + k) % len(ACCENTS)]
            voice = accent if variant == DEFAULT_VARIANT else f"{accent}+{variant}"
            out.append((split_of.get(variant, "train"), voice, variant))
    return out


def english_take(voice: str, digit: int) -> tuple[int, int, str]:
    """The (speed, pitch, tone) one English voice says one digit with (seeded by both: reproducible)."""
    rng = np.random.default_rng(zlib.crc32(f"{voice}|{digit}".encode()))
    return (int(rng.choice(SPEEDS_EN)), int(rng.choice(PITCHES_EN)), str(rng.choice(list(TONES))))


def settings(language: str, voice_index: int) -> list[tuple[int, int]]:
    """The (speed, pitch) pairs one voice speaks at."""
    speeds, pitches = SPEEDS[language], PITCHES[language]
    return [(speeds[(voice_index + k) % len(speeds)], pitch) for k, pitch in enumerate(pitches)]


def espeak_version() -> str:
    """The espeak-ng version line, e.g. ``1.51``."""
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
    parts = out.split()
    return parts[parts.index("text-to-speech:") + 1] if "text-to-speech:" in parts else out.strip()


def synthesise(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """Raw espeak-ng output for ``text`` at 22.05 kHz as float64 in [-1, 1]."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
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


def voice_file(language: str, voice: str) -> str:
    """The file holding every clip of one voice, back to back."""
    return f"{language}/{voice.replace('+', '_').replace(' ', '-')}.flac"


def plan(language: str, *, voices: list[str] | None = None, digits: list[int] | None = None,
         speeds: list[int] | None = None, pitches: list[int] | None = None) -> list[dict]:
    """Every clip to make for ``language``: split, voice, digit, word, speed, pitch, tone.

    ``voices`` / ``digits`` keep a subset; ``speeds`` / ``pitches`` replace each voice's settings by their grid.
    """
    if language == "en":
        entries = [(split, voice) for split, voice, _ in english_voices()]
    else:
        entries = [(split, voice) for split, names in VOICES[language].items() for voice in names]
    rows = []
    for index, (split, voice) in enumerate(entries):
        if voices and voice not in voices:
            continue
        for digit, word in enumerate(WORDS[language]):
            if digits is not None and digit not in digits:
                continue
            if speeds or pitches:
                grid = [(s, p, "statement") for s in speeds or SPEEDS_EN for p in pitches or PITCHES_EN]
            elif language == "en":
                grid = [english_take(voice, digit)]
            else:
                grid = [(s, p, "statement") for s, p in settings(language, index)]
            rows += [{"split": split, "voice": voice, "digit": digit, "word": word, "speed": speed, "pitch": pitch,
                      "tone": tone} for speed, pitch, tone in grid]
    return rows


def make(out: Path, languages: list[str], *, voices: list[str] | None = None, digits: list[int] | None = None,
         speeds: list[int] | None = None, pitches: list[int] | None = None, quiet: bool = False) -> dict:
    """Write the clips (see :func:`plan`), ``manifest.csv`` and ``meta.json`` under ``out``; returns the manifest."""
    clips = []
    for language in languages:
        voices_clips: dict[str, list[np.ndarray]] = {}
        for row in plan(language, voices=voices, digits=digits, speeds=speeds, pitches=pitches):
            text = row["word"] + ("" if language == "zh" else TONES[row["tone"]])
            samples = finish(synthesise(text, row["voice"], row["speed"], row["pitch"]))
            parts = voices_clips.setdefault(row["voice"], [])
            clips.append({"file": voice_file(language, row["voice"]), "language": language,
                          **{k: row[k] for k in FIELDS[2:-2]}, "start": sum(map(len, parts)),
                          "samples": len(samples)})
            parts.append(samples)
        for voice, parts in voices_clips.items():
            path = out / voice_file(language, voice)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(flac_bytes(np.concatenate(parts)))
        if not quiet:
            counts = {s: sum(c["split"] == s and c["language"] == language for c in clips)
                      for s in ("train", "val", "test")}
            print(f"{language}: {counts} clips", file=sys.stderr)
    meta = {
        "description": "Spoken digits synthesised with espeak-ng by scripts/make_spoken_digits.py: every English "
                       "accent and voice variant, speeds, pitches and intonations; split by voice variant "
                       "(validation and test variants are never heard in training).",
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
    return dict(meta, clips=clips)


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
