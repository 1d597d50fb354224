"""Train the Explain page's bundled digits CNN and write ``assets/digits_cnn.pt`` (state_dict only) and
``assets/digits_cnn.json`` (architecture config, data split, accuracy).

Command (from the repository root; 2–4 minutes on 2 CPU cores, deterministic for a given torch
build):

    python scripts/train_bundled_digits.py            # defaults: Tiny VGG preset, 28×28 digits, seed 0
    python scripts/train_bundled_digits.py --epochs 30 --seed 1

The model is the CNN lab's "Tiny VGG" preset (``core.models.cnn``) on scikit-learn's digits upscaled to
28×28 (``core.data.images.load_digits_dataset``), trained with the shared ``SupervisedTrainer`` (Adam,
light shift/rotation augmentation so hand drawings work too; the learning rate drops 10× for the last
third of the epochs) and the weights of the epoch with the lowest validation loss are kept (the test split
is never used for choosing). Weights are stored as float32.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.images import Augmentation, load_digits_dataset  # noqa: E402
from core.explain.bundled import CONFIG, WEIGHTS, config_to_json  # noqa: E402
from core.models.cnn import build_cnn, count_params, preset  # noqa: E402
from core.training import SupervisedTrainer, accuracy, make_optimizer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="Tiny VGG")
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    ds = load_digits_dataset(size=args.size, seed=args.seed)
    config = preset(args.preset, ds.channels, ds.size, ds.num_classes)
    model = build_cnn(config)
    trainer = SupervisedTrainer(model, make_optimizer("Adam", model.parameters(), args.lr),
                                torch.nn.functional.cross_entropy, (ds.x_train, ds.y_train), (ds.x_val, ds.y_val),
                                batch_size=64, augment=Augmentation(shift=0.08, rotation=10.0),
                                device=torch.device("cpu"),
                                patience=args.epochs + 1, seed=args.seed)
    steps = args.epochs * trainer.steps_per_epoch
    start = time.perf_counter()
    for step in range(1, steps + 1):
        trainer.train_step()
        if step == round(steps * 2 / 3):
            for group in trainer.optimizer.param_groups:
                group["lr"] = args.lr / 10
        if step % trainer.steps_per_epoch == 0:
            ev = trainer.evaluate()
            print(f"epoch {step // trainer.steps_per_epoch:3d}  val_loss {ev['val_loss']:.4f}  "
                  f"val_acc {ev['val_accuracy']:.4f}", flush=True)
    if trainer.best_state is not None:
        model.load_state_dict(trainer.best_state)
    model.eval()
    with torch.no_grad():
        test_acc = accuracy(model(ds.x_test), ds.y_test)
        val_acc = accuracy(model(ds.x_val), ds.y_val)
    seconds = time.perf_counter() - start
    state = {k: v.detach().float().contiguous() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, args.out)
    meta = {
        "name": f"{config.name} on digits {ds.size}×{ds.size}",
        "config": config_to_json(config),
        "dataset": {"name": "digits", "size": ds.size, "seed": args.seed, "splits": ds.split_sizes()},
        "training": {"optimizer": "Adam", "lr": args.lr, "lr_drop": "×0.1 after 2/3 of the steps",
                     "epochs": args.epochs, "kept": "lowest validation loss", "batch_size": 64,
                     "augmentation": "shift 8 %, rotation 10°", "seconds": round(seconds, 1)},
        "params": count_params(model),
        "val_accuracy": round(val_acc, 4),
        "test_accuracy": round(test_acc, 4),
        "command": "python scripts/train_bundled_digits.py" + (f" --seed {args.seed}" if args.seed else ""),
        "torch": torch.__version__,
    }
    out_json = CONFIG if args.out == WEIGHTS else args.out.with_suffix(".json")
    out_json.write_text(json.dumps(meta, indent=2) + "\n")
    assert math.isfinite(test_acc)
    print(f"test_accuracy={test_acc:.4f} params={meta['params']:,} size={args.out.stat().st_size / 1024:.0f} KiB "
          f"seconds={seconds:.1f} -> {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
