"""Audio lab: hear spoken digits, see them the way a model does (librosa), train a CNN and an LSTM to recognise
them on voices they have never heard, and ask both what they heard in your own voice."""

import streamlit as st

from ui.audio_explore import render as explore_tab
from ui.audio_predict import render as predict_tab
from ui.audio_train import render as train_tab

st.title("Audio lab")
st.markdown(
    "A sound is a **waveform**: air pressure sampled thousands of times a second (here 8,000). Cut it into short "
    "overlapping windows and take the Fourier transform of each, and you get a **spectrogram** — which frequencies "
    "are loud at each moment — which a CNN can read like a picture, while a recurrent net reads its frames one "
    "by one. The spoken digits below were made by a speech synthesiser with many voices; the test voices are "
    "never heard in training, so the accuracy shows whether a model learned the *words* or only the speakers."
)

listen, train, predict = st.tabs([":material/graphic_eq: 1 · Listen and look", ":material/model_training: 2 · Train "
                                  "CNN vs LSTM", ":material/mic: 3 · Recognise your voice"])
with listen:
    explore_tab()
with train:
    train_tab()
with predict:
    predict_tab()
