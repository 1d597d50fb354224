"""Audio lab: hear spoken digits, see them the way a model does (librosa), train a CNN and an LSTM to recognise
them on voices they have never heard (clean and recording-like), ask them what they heard in your own voice, and
teach one your voice. Every setting of the page
lives in the URL, so the address can be shared."""

import streamlit as st

from pages.audio_lab import common, explore, predict, teach, train
from ui.display import header
from ui.i18n import t
from ui.lessons import lesson_panel
from ui.settings import share_note

header(t("audio.page.title"), lede=t("audio.page.lede"), small=False)

form = common.form()
form.warnings()
common.settle_clip(common.digits(form.value("language")), common.EXPLORE_KEYS)
config = form.checked()
lesson_panel("audio", form, train.CNN_KEY)  # the challenges follow the CNN's run (tab 2)

common.language_picker(form)
listen, race, yours, own = st.tabs([t("audio.page.tab_listen"), t("audio.page.tab_train"),
                                    t("audio.page.tab_predict"), t("audio.page.tab_teach")])
with listen:
    explore.render(form, config)
with race:
    train.render(form, config)
with yours:
    predict.render(config)
with own:
    teach.render(form, config)
share_note()
