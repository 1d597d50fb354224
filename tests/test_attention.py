"""Attention lab: the explicit attention against PyTorch's, the causal mask, BERT's masking and its loss, the
tasks' data, short runs that learn, the settings' link and errors, the views, inspections and figures."""

import dataclasses
import functools
import math
import pickle

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from core.data import DATASETS
from core.data.tokens import IGNORE, find_blanks, mask_tokens, parse_symbols, text_corpus, text_windows
from core.errors import ConfigError, DataError, PlaygroundError
from core.i18n import catalogue, has, placeholders
from core.jobs import build_seeded
from core.labs import attention as A
from core.models import MODELS
from core.models.transformer import Transformer, attention, causal_mask, sampling_distribution, sinusoidal_positions
from core.viz import attention as V


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def trained(config: A.Config, steps: int) -> A.AttentionTrainer:
    trainer = build_seeded(functools.partial(A.make_trainer, config), config.seed)
    for _ in range(steps):
        trainer.train_step()
    return trainer


def raises_key(exc_type, key: str, fn, *args, **kwargs) -> PlaygroundError:
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert info.value.key == key
    assert has(key, "en") and has(key, "zh")
    return info.value


# ----------------------------------------------------------------------------- attention itself
@pytest.mark.parametrize("causal", [False, True])
def test_explicit_attention_equals_pytorch_sdpa(causal):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 4, 9, 16, generator=g) for _ in range(3))
    mask = causal_mask(9) if causal else None
    out, weights, scores = attention(q, k, v, mask)
    reference = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    assert (out - reference).abs().max().item() < 1e-5
    assert torch.allclose(scores, q @ k.transpose(-2, -1) / 4.0, atol=1e-6)  # √16
    if causal:
        assert (weights.triu(1) == 0).all()  # the future gets exactly zero weight
    random_mask = torch.rand(9, 9, generator=g) > 0.3
    random_mask[:, 0] = True  # every row keeps a key
    ours, _, _ = attention(q, k, v, random_mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=random_mask)
    assert (ours - theirs).abs().max().item() < 1e-5


@pytest.mark.parametrize("causal", [False, True])
def test_attention_rows_sum_to_one(causal):
    torch.manual_seed(1)
    model = Transformer(11, 12, width=32, heads=4, layers=3, causal=causal).eval()
    trace = model.trace(torch.randint(0, 11, (5, 12)))
    assert len(trace.weights) == 3 and trace.logits.shape == (5, 12, 11)
    for w in trace.weights:
        assert w.shape == (5, 4, 12, 12) and (w >= 0).all()
        assert torch.allclose(w.sum(-1), torch.ones(5, 4, 12), atol=1e-6)


@pytest.mark.parametrize("norm,positions", [("pre", "learned"), ("post", "sinusoidal")])
def test_causal_mask_makes_earlier_positions_independent_of_later_tokens(norm, positions):
    torch.manual_seed(2)
    model = Transformer(20, 16, width=32, heads=2, layers=2, causal=True, norm=norm, positions=positions,
                        dropout=0.2).eval()
    ids = torch.randint(0, 20, (4, 16))
    before = model(ids)
    for t in (3, 9, 15):
        changed = ids.clone()
        changed[:, t:] = (changed[:, t:] + 7) % 20  # every token from t on is different
        after = model(changed)
        assert torch.equal(after[:, :t], before[:, :t])  # exactly, bit for bit
        assert not torch.allclose(after[:, t], before[:, t])  # the changed position itself does react
    encoder = Transformer(20, 16, width=32, heads=2, layers=2, causal=False).eval()
    changed = ids.clone()
    changed[:, -1] = (changed[:, -1] + 1) % 20
    assert not torch.allclose(encoder(changed)[:, 0], encoder(ids)[:, 0])  # bidirectional: the past sees it


def test_sinusoidal_positions_follow_the_formula():
    pe = sinusoidal_positions(50, 16)
    p, i = 7, 3
    assert math.isclose(pe[p, 2 * i].item(), math.sin(p / 10000 ** (2 * i / 16)), abs_tol=1e-5)
    assert math.isclose(pe[p, 2 * i + 1].item(), math.cos(p / 10000 ** (2 * i / 16)), abs_tol=1e-5)
    assert sinusoidal_positions(4, 7).shape == (4, 7)  # odd widths work too


def test_sampling_distribution_by_hand():
    logits = torch.log(torch.tensor([0.05, 0.5, 0.15, 0.3]))
    probs, kept, final = sampling_distribution(logits, 1.0)
    assert torch.allclose(probs, torch.tensor([0.05, 0.5, 0.15, 0.3])) and kept.all()
    _, kept, final = sampling_distribution(logits, 1.0, top_k=2)
    assert kept.tolist() == [False, True, False, True]
    assert torch.allclose(final, torch.tensor([0.0, 0.625, 0.0, 0.375]))
    assert sampling_distribution(logits, 1.0, top_p=0.8)[1].tolist() == [False, True, False, True]  # 0.5+0.3
    assert sampling_distribution(logits, 1.0, top_p=0.81)[1].tolist() == [False, True, True, True]
    assert sampling_distribution(logits, 1.0, top_p=0.05)[1].tolist() == [False, True, False, False]
    assert sampling_distribution(logits, 0.0)[1].tolist() == [False, True, False, False]  # greedy
    hot = sampling_distribution(logits, 0.5)[0]
    assert hot[1] > 0.5 and hot[0] < 0.05  # a low temperature sharpens


def test_registries_list_the_attention_family():
    assert "transformer" in MODELS.names("attention")
    assert isinstance(MODELS.get("transformer")(5, 4, width=8, heads=2, layers=1), Transformer)
    assert {"digit_reversal", "digit_sorting", "english_poems", "gettysburg", "tang_poems"} <= set(
        DATASETS.names("attention"))


# ----------------------------------------------------------------------------- data
def test_digit_tasks_and_symbols():
    x, y = DATASETS.get("digit_reversal")(50, 6, 10, seed=3)
    assert (y == x[:, ::-1]).all() and x.max() < 10
    x, y = DATASETS.get("digit_sorting")(50, 6, 4, seed=3)
    assert (np.diff(y, axis=1) >= 0).all() and (np.sort(x, axis=1) == y).all()
    assert parse_symbols("3 1, 4", 10) == [3, 1, 4] and parse_symbols("a9", 12) == [10, 9]
    raises_key(DataError, "attention.errors.symbols", parse_symbols, "12x", 10)


def test_bert_masking_follows_the_80_10_10_rule():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 50, (400, 64), generator=g)
    eligible = torch.ones_like(ids, dtype=torch.bool)
    eligible[:, :4] = False
    inputs, targets = mask_tokens(ids, mask_id=50, vocab_size=50, generator=g, eligible=eligible)
    chosen = targets != IGNORE
    assert not chosen[:, :4].any()  # only eligible positions
    assert abs(chosen[:, 4:].float().mean().item() - 0.15) < 0.01
    assert torch.equal(targets[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])  # what is not chosen is left alone
    masked = (inputs == 50) & chosen
    same = (inputs == ids) & chosen
    replaced = chosen & ~masked & ~same
    n = chosen.sum().item()
    assert abs(masked.sum().item() / n - 0.8) < 0.02
    assert abs((same.sum().item() + replaced.sum().item()) / n - 0.2) < 0.02
    assert abs(replaced.sum().item() / n - 0.1 * 49 / 50) < 0.02  # a random token equals the original 1 in 50
    sparse = mask_tokens(ids[:50, :5], mask_id=50, vocab_size=50, generator=g, rate=0.01)[1]
    assert ((sparse != IGNORE).sum(1) >= 1).all()  # every sequence teaches something


def test_masked_lm_loss_counts_only_masked_positions():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 30, (8, 20), generator=g)
    _, targets = mask_tokens(ids, mask_id=30, vocab_size=30, generator=g)
    logits = torch.randn(8, 20, 30, generator=g)
    chosen = targets != IGNORE
    by_hand = -torch.log_softmax(logits, -1).gather(-1, ids[..., None])[..., 0][chosen].mean()
    loss = A.sequence_loss(logits, targets)
    assert torch.allclose(loss, by_hand, atol=1e-6)
    other = logits.clone()
    other[~chosen] = torch.randn(int((~chosen).sum()), 30, generator=g) * 10
    assert torch.equal(A.sequence_loss(other, targets), loss)  # unmasked positions do not count at all
    other[chosen] += torch.randn(int(chosen.sum()), 30, generator=g)
    assert not torch.equal(A.sequence_loss(other, targets), loss)
    trainer = A.make_trainer(A.Config(task="masked_lm", steps=10))
    x, y = trainer.batch()
    scored = y != IGNORE
    assert 0.08 < scored.float().mean().item() < 0.25
    assert ((x == trainer.data.mask_id) <= scored).all()  # [MASK] appears only where the loss looks


def test_validation_scores_only_held_out_characters():
    for task in ("causal_lm", "masked_lm"):
        data = A.build_task(A.Config(task=task))
        w = data.windows
        positions = w.val_start[:, None] + 1 + torch.arange(w.context)[None, :]
        scored = data.y_val != IGNORE
        assert scored.any(dim=1).all()
        assert (positions[scored] >= w.split).all()
        assert (w.train.max() < data.out_size) and w.train.shape[1] == w.context + 1
    corpus = text_corpus("abcdefgh" * 12)
    raises_key(DataError, "attention.errors.text_context", text_windows, corpus, 100)


def test_blanks_are_found():
    text, blanks = find_blanks("a_b[MASK]c＿")
    assert blanks == [1, 3, 5] and len(text) == 6


# ----------------------------------------------------------------------------- training
def test_reversal_learns_an_anti_diagonal():
    trainer = trained(A.Config(steps=200), 150)
    ev = trainer.evaluate()
    assert ev["val_accuracy"] >= 0.99 and ev["val_mirror"] >= 0.8
    view = trainer.snapshot()
    last = view.probe.weights[-1].mean(0)
    t = len(view.probe.tokens)
    assert np.mean([last[i, t - 1 - i] for i in range(t)]) > 0.8
    assert view.probe.predictions == view.probe.targets
    assert view.patterns[-1, :, A.PATTERNS.index("mirror")].mean() > 0.8


def test_a_short_causal_run_lowers_the_loss_below_the_unigram_entropy():
    config = dataclasses.replace(A.PRESETS["gpt"], width=32, heads=2, batch_size=32, context=16)
    trainer = build_seeded(functools.partial(A.make_trainer, config), config.seed)
    start = trainer.evaluate()["val_loss"]
    losses = [trainer.train_step()["loss"] for _ in range(150)]
    val = trainer.evaluate()["val_loss"]
    assert val < start - 1.0 and np.mean(losses[-20:]) < np.mean(losses[:20]) - 0.5
    assert val < trainer.data.baseline  # held-out characters: better than ignoring all context


def test_the_lstm_races_on_the_same_batches():
    trainer = trained(A.Config(race=True, steps=20), 8)  # the 9th step measures the batch accuracy
    out = trainer.train_step()
    assert {"loss", "loss/LSTM", "accuracy/LSTM", "grad_norm/LSTM"} <= set(out)
    assert {"val_loss/LSTM", "val_accuracy/LSTM"} <= set(trainer.evaluate())
    assert trainer.lstm.bidirectional
    assert not A.make_trainer(A.Config(task="causal_lm", race=True)).lstm.bidirectional


def test_make_job_trains_and_stores_a_view():
    job = A.make_job(A.Config(steps=30))
    job.threads = 1
    job.start()
    assert job.join(60)
    snap = job.snapshot()
    assert snap.error is None and snap.step == 30 and "val_accuracy" in snap.evals
    view = getattr(snap, "view", None) or getattr(snap, "extra", None)
    assert isinstance(view, A.View) and view.step == 30
    pickle.dumps(functools.partial(A.make_trainer, A.Config()))  # the factory travels to worker processes
    raises_key(ConfigError, "attention.errors.speed", A.make_job, A.Config(), speed="warp")


def _only_plain(value) -> bool:
    if dataclasses.is_dataclass(value):
        return all(_only_plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (list, tuple)):
        return all(_only_plain(v) for v in value)
    return value is None or isinstance(value, (np.ndarray, str, int, float, bool, np.floating, np.integer))


def test_views_are_small_plain_and_reproducible():
    big = A.Config(task="causal_lm", layers=6, heads=8, width=256, context=128)
    view = A.make_trainer(big).snapshot()
    assert _only_plain(view) and len(pickle.dumps(view)) < 1_000_000
    assert view.probe.weights.shape == (6, 8, 32, 32) and view.positions.shape == (128, 256)
    assert view.next_token is not None and view.probe.mask.sum() == 32 * 33 // 2
    first, again = A.initial_view(A.Config()), A.initial_view(A.Config())
    assert np.array_equal(first.probe.weights, again.probe.weights)
    assert first.probe.mask.all() and first.embeddings.points.shape == (10, 2)


# ----------------------------------------------------------------------------- inspections
def test_attention_maps_fill_in_and_generate():
    rev = trained(A.Config(steps=100), 100)
    maps = A.attention_maps(rev, "31415926")
    assert maps.tokens == list("31415926") and maps.predictions == list("62951413")
    assert maps.weights.shape == (2, 2, 8, 8) and maps.mask.all()
    assert A.attention_maps(rev, [1, 2, 3]).targets == ["3", "2", "1"]
    raises_key(DataError, "attention.errors.token_ids", A.attention_maps, rev, [1, 99])
    raises_key(ConfigError, "attention.errors.task_only", A.fill_in_blank, rev, "a_b")

    mlm = A.make_trainer(A.Config(task="masked_lm"))
    fill = A.fill_in_blank(mlm, "Shall I compare thee to a s_mmer's d_y?", top=3)
    assert len(fill.blanks) == 2 and fill.probs.shape == (2, 3) and len(fill.candidates[0]) == 3
    assert (np.diff(fill.probs, axis=1) <= 0).all() and fill.text.count(A.MASK_LABEL) == 2
    assert fill.filled[fill.blanks[0]] == mlm.data.corpus.vocab[mlm.data.labels.index(fill.candidates[0][0])]
    raises_key(DataError, "attention.errors.no_blank", A.fill_in_blank, mlm, "no blank here")

    gpt = trained(A.Config(task="causal_lm"), 30)
    greedy = A.generate(gpt, "Shall I", temperature=0.0, length=20)
    assert len(greedy.text) == 20 and np.allclose(greedy.chosen_probs, 1.0)
    assert A.generate(gpt, "Shall I", temperature=1.0, top_k=1, length=20, seed=5).text == greedy.text
    a, b = (A.generate(gpt, "Shall I", temperature=1.0, length=40, seed=s).text for s in (1, 1))
    assert a == b  # the same seed samples the same text
    nt = A.next_token(gpt, "Shall I", temperature=1.0, top_k=3)
    assert nt.kept.sum() == 3 and nt.kept_count == 3 and math.isclose(float(nt.final.sum()), 1.0, rel_tol=1e-5)
    raises_key(DataError, "attention.errors.prompt_unknown", A.generate, gpt, "静夜")
    raises_key(ConfigError, "common.config.range", A.generate, gpt, "a", temperature=9.0)
    raises_key(ConfigError, "attention.errors.gen_length", A.generate, gpt, "a", length=0)


def test_set_live_changes_the_probe_but_refuses_structural_changes():
    trainer = A.make_trainer(A.Config())
    A.set_live(trainer, A.Config(probe="12345678", lr=0.001))
    assert trainer.snapshot().probe.tokens == list("12345678") and trainer._lr() <= 0.001
    raises_key(ConfigError, "attention.errors.needs_rebuild", A.set_live, trainer, A.Config(layers=3))
    mlm = A.make_trainer(A.Config(task="masked_lm"))
    assert mlm.snapshot().probe.tokens.count(A.MASK_LABEL) >= 1  # about 15 % of the default probe is masked
    A.set_live(mlm, A.Config(task="masked_lm", probe="Shall I c_mpare thee"))
    probe = mlm.snapshot().probe
    assert "".join(probe.tokens) == "Shall␣I␣c▢mpare␣thee" and probe.targets == [""] * 20


def test_explainable_reads_the_transformer_at_one_position():
    for config in (A.Config(), A.Config(task="causal_lm"), A.Config(task="masked_lm")):
        trainer = A.make_trainer(config)
        ex = A.explainable(trainer, examples=16)
        assert ex.kind == "grid" and ex.x_test.shape[1:] == ex.spec.shape and len(ex.y_test) == len(ex.x_test)
        ids = ex.x_test.argmax(1)
        position = ex.extra["position"]
        direct = trainer.model.eval()(ids)[:, position]
        assert torch.allclose(ex.model(ex.x_test), direct, atol=1e-5)
        assert ex.card["lab"] == "attention" and ex.card["model"]["kind"] == "transformer"
        assert ex.x_train.shape[1:] == ex.spec.shape and len(ex.y_train) == len(ex.x_train) > len(ex.x_test)
        train_ids = ex.x_train.argmax(1)
        if config.task == "reversal":
            assert torch.equal(ex.y_train, train_ids[:, -1])  # the first output is the last input
        rebuilt = A.build_readout(A.describe_readout(ex.model))
        rebuilt.load_state_dict(ex.model.state_dict())
        assert torch.equal(rebuilt.eval()(ex.x_test), ex.model(ex.x_test))  # a card rebuilds the same network


# ----------------------------------------------------------------------------- settings
def test_config_url_round_trip():
    for config in [*A.PRESETS.values(), A.Config(task="sorting", seq_len=11, digits=17, top_k=5, top_p=0.9,
                                                 temperature=1.25, probe="0a1b", lr=0.0003, race=True)]:
        back, warnings = A.Config.from_query(config.to_query())
        assert back == config and warnings == []
    back, warnings = A.Config.from_query({"task": "causal_lm", "text": "custom", "topk": "off", "heads": "99"})
    assert back.text == A.Config.text and back.top_k is None and back.heads == 8
    assert {w.key for w in warnings} == {"attention.url.no_text", "common.url.outside"}
    back, warnings = A.Config.from_query({"probe": "12z"})
    assert back.probe == "" and [w.key for w in warnings] == ["attention.url.probe"]
    back, warnings = A.Config.from_query({"width": "30", "heads": "4"})  # fine alone, not together
    assert back == A.Config() and [w.key for w in warnings] == ["common.url.reset"]


def test_bad_values_give_errors_with_catalogue_keys():
    raises_key(ConfigError, "attention.errors.width_heads", A.Config(width=30, heads=4).validate)
    raises_key(ConfigError, "common.config.choice", A.Config(task="translation").validate)
    raises_key(ConfigError, "common.config.range", A.Config(seq_len=1).validate)
    raises_key(ConfigError, "attention.errors.symbols", A.Config(probe="12x").validate)
    raises_key(ConfigError, "attention.errors.probe_length", A.Config(probe="123456789").validate)
    raises_key(DataError, "attention.errors.text_short", A.Config(task="causal_lm", text="custom",
                                                                  custom_text="too short").validate)
    raises_key(DataError, "attention.errors.text_one_char", text_corpus, "a" * 100)
    short = A.Config(task="masked_lm", text="custom", custom_text="abcdefghij" * 10, context=100)
    raises_key(DataError, "attention.errors.text_context", short.validate)
    raises_key(ConfigError, "attention.errors.width_heads", Transformer, 5, 4, width=10, heads=3)
    raises_key(ConfigError, "attention.errors.too_long", Transformer(5, 4, width=8, heads=2), torch.zeros(1, 5).long())
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    chinese = A.Config(task="masked_lm", text="custom", custom_text=poem * 6)
    assert A.make_trainer(chinese).data.corpus.vocab[0] in "明月，。"  # pasted Chinese text works


def test_catalogues_have_the_same_keys_and_placeholders():
    en = {k: v for k, v in catalogue("en").items() if k.startswith("attention.")}
    zh = {k: v for k, v in catalogue("zh").items() if k.startswith("attention.")}
    assert set(en) == set(zh)
    assert all(placeholders(en[k]) == placeholders(zh[k]) for k in en)
    for f in A.Config.declared():
        assert has(f.label, "en") and has(f.label, "zh")
    for group, names in (("tasks", A.TASKS), ("texts", A.TEXT_SOURCES), ("presets", A.PRESETS),
                         ("preset_help", A.PRESETS), ("patterns", A.PATTERNS), ("speeds", A.SPEEDS)):
        assert all(f"attention.{group}.{n}" in en for n in names), group


# ----------------------------------------------------------------------------- figures
def test_figures_build_in_both_languages():
    trainer = trained(A.Config(task="causal_lm", race=True), 3)
    trainer.evaluate()
    view = trainer.snapshot()
    p = view.probe
    history = {"step": [1.0, 2.0], "loss": [3.0, 2.0], "loss/LSTM": [3.5, 3.0], "accuracy": [0.1, 0.2]}
    evals = {"step": [0.0, 2.0], "val_loss": [3.2, 2.5], "val_loss/LSTM": [3.4, 3.3]}
    gen = A.generate(trainer, "The", length=5)
    fill = A.fill_in_blank(A.make_trainer(A.Config(task="masked_lm")), "Sh_ll")
    for lang in ("en", "zh"):
        figures = [
            V.mask_figure(p.mask, p.tokens, lang=lang),
            V.attention_heatmaps(p.weights, p.tokens, lang=lang),
            V.attention_heatmaps(p.scores, p.tokens, mask=p.mask, kind="scores", lang=lang),
            V.answer_figure(p.tokens, p.targets, p.predictions, p.confidence, lang=lang),
            V.patterns_figure(view.patterns, lang=lang),
            V.positions_figure(view.positions, kind=view.positions_kind, lang=lang),
            V.embedding_figure(view.embeddings.points, view.embeddings.labels, view.embeddings.variance, lang=lang),
            V.next_token_figure(gen.first.labels, gen.first.raw, gen.first.final, gen.first.kept,
                                chosen=gen.first.chosen, lang=lang),
            V.fill_in_figure(fill.candidates, fill.probs, lang=lang),
            V.race_figure(history, evals, baseline=trainer.data.baseline, lang=lang),
        ]
        assert all(isinstance(f, go.Figure) and f.layout.title.text for f in figures)
        if lang == "zh":
            assert "掩码" in figures[0].layout.title.text and "注意力" in figures[1].layout.title.text
    scores = V.attention_heatmaps(p.scores, p.tokens, mask=p.mask, kind="scores")
    assert np.isnan(np.asarray(scores.data[0].z, dtype=float)[0, 1])  # a masked score is left blank
    assert len(V.attention_heatmaps(p.weights, p.tokens).data) == 2 * 2  # layers × heads
