"""Attribution speed on the bundled digits CNN (Tiny VGG, 28×28): every registry method on one test digit,
with the Explain page's default options.

Prints the cold first pass (imports, hooks), then each method's warm time (median of ``REPEATS`` runs,
each on a fresh copy of the model as the page does), the trust checks, and last
``all_methods_s=<x>``: the warm total of all gradient methods plus Occlusion and Grad-CAM (and NoiseTunnel),
whose target is ≤ 3 s on a CPU. Lime and KernelShap (200 samples) are reported separately.

    python bench/attributions.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.explain import METHODS, attribute, attribute_many  # noqa: E402
from core.explain.bundled import bundled_dataset, image_spec, load_bundled_digits  # noqa: E402
from core.explain.settings import Config  # noqa: E402
from core.explain.trust import deletion_curve, random_deletion_curve, randomization_check  # noqa: E402

REPEATS = 5


def main() -> None:
    model, meta = load_bundled_digits()
    ds = bundled_dataset(meta)
    spec = image_spec(ds)
    x, target = ds.x_test[0], int(ds.y_test[0])
    options = Config().options("image")  # the Explain page's defaults
    fast = [m for m in METHODS.names() if not METHODS.get(m).slow]
    slow = [m for m in METHODS.names() if METHODS.get(m).slow]

    start = time.perf_counter()
    cold = attribute_many(fast, model, x, target, spec=spec, **options)
    print(f"cold first pass (all fast methods, one call): {time.perf_counter() - start:.2f} s wall")

    times: dict[str, float] = {}
    for name in fast + slow:
        runs = [attribute(name, model, x, target, spec=spec, **options).seconds
                for _ in range(REPEATS if name in fast else 2)]
        times[name] = statistics.median(runs)
        print(f"{name:22s} {times[name] * 1000:8.1f} ms" + ("   (perturbation, 200 samples)" if name in slow else ""))
    ig = cold["IntegratedGradients"]
    print(f"IG completeness (50 steps, black baseline): delta={ig.delta:+.4f}, relative={ig.delta_rel:.3%}")
    dl = cold["DeepLift"]
    print(f"DeepLift completeness: delta={dl.delta:+.4f}, relative={dl.delta_rel:.3%}")

    start = time.perf_counter()
    rhos = {n: randomization_check(n, model, x, target, spec, mode="full", **options).correlations[0] for n in fast}
    print(f"randomization check (full, all fast methods): {time.perf_counter() - start:.2f} s; "
          + ", ".join(f"{n}={r:.2f}" for n, r in rhos.items()))
    start = time.perf_counter()
    aucs = {n: deletion_curve(model, x, target, a.pixels(), spec).auc for n, a in cold.items()}
    ref = random_deletion_curve(model, x, target, spec).auc
    print(f"deletion curves: {time.perf_counter() - start:.2f} s; random={ref:.3f}, "
          + ", ".join(f"{n}={v:.3f}" for n, v in aucs.items()))
    print(f"slow_methods_s={sum(times[m] for m in slow):.3f}")
    print(f"all_methods_s={sum(times[m] for m in fast):.3f}")


if __name__ == "__main__":
    main()
