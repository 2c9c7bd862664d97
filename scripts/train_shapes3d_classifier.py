"""Train the ``shapes3d-classifier`` extractor's 3-D CNN on the shapes3d train split and freeze it.

    .venv/bin/python scripts/train_shapes3d_classifier.py [--epochs 20] [--seed 0] [--out PATH]

Training uses only shapes3d ``train`` (4,000 shapes) with random axis flips (a flip of a random
pose is another random pose of the same class, and of the same size and position range); the
epoch with the best ``val`` accuracy (ties: lower val loss) is kept. ``test`` is touched once, at
the end, to report accuracy and the Inception Score that real test shapes get under the classifier
(exp of the mean KL, 10 splits). Seeded and CPU-only (minutes on 2 cores); bit-for-bit
reproducibility across machines or thread counts is not promised, which is why the frozen file
and its sha256 are what genbench uses.

Writes the weights as safetensors (with training metadata) and prints the sha256 to record in
``genbench/assets/SHA256SUMS`` and ``genbench.features.shapes3d_classifier.DEFAULT_WEIGHTS_SHA256``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from genbench.data import load_dataset  # noqa: E402
from genbench.features.shapes3d_classifier import VoxelCNN, to_input  # noqa: E402
from genbench.hashing import sha256_file  # noqa: E402


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flip each of the three spatial axes of the whole batch with probability 1/2."""
    dims = [d for d in (2, 3, 4) if torch.rand((), generator=gen) < 0.5]
    return torch.flip(x, dims) if dims else x


@torch.no_grad()
def evaluate(model: VoxelCNN, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, np.ndarray]:
    model.eval()
    logits = torch.cat([model(to_input(x[i:i + 250]))[1] for i in range(0, len(x), 250)])
    probs = torch.softmax(logits.double(), 1)
    return float((logits.argmax(1) == y).float().mean()), float(F.cross_entropy(logits, y)), probs.numpy()


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) || p(y))) per split (Salimans et al. 2016), mean and std over splits."""
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(0, keepdims=True)
        kl = np.sum(part * (np.log(np.clip(part, 1e-300, None)) - np.log(marginal)), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "genbench" / "assets" / "shapes3d_classifier.safetensors")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)

    data = load_dataset("shapes3d")
    tensors = {name: (torch.from_numpy(s.samples), torch.from_numpy(s.labels)) for name, s in data.splits.items()}
    x_train, y_train = tensors["train"]
    model = VoxelCNN()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=steps_per_epoch)

    best = (-1.0, math.inf)
    best_state, best_epoch = None, -1
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=gen)
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * args.batch_size:(i + 1) * args.batch_size]
            logits = model(augment(to_input(x_train[idx]), gen))[1]
            loss = F.cross_entropy(logits, y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(idx)
        val_acc, val_loss, _ = evaluate(model, *tensors["val"])
        if (val_acc, -val_loss) > (best[0], -best[1]):
            best, best_state, best_epoch = (val_acc, val_loss), copy.deepcopy(model.state_dict()), epoch
        print(f"epoch {epoch + 1:3d}/{args.epochs}  train loss {total_loss / len(x_train):.4f}  "
              f"val acc {val_acc:.4f}  val loss {val_loss:.4f}  ({time.time() - start:.0f} s)", flush=True)

    model.load_state_dict(best_state)
    test_acc, test_loss, test_probs = evaluate(model, *tensors["test"])
    is_mean, is_std = inception_score(test_probs)
    print(f"selected epoch {best_epoch + 1}: val acc {best[0]:.4f}, val loss {best[1]:.4f}")
    print(f"test accuracy {test_acc:.4f}  test loss {test_loss:.4f}")
    print(f"Inception Score of the real test split: {is_mean:.3f} ± {is_std:.3f} (10 splits)")

    from safetensors.torch import save_file

    training = {
        "name": "shapes3d-classifier",
        "architecture": "genbench.features.shapes3d_classifier.VoxelCNN",
        "trained_on": data.fingerprint.to_dict(),
        "selected_epoch": best_epoch + 1,
        "epochs": args.epochs,
        "seed": args.seed,
        "val_accuracy": round(best[0], 4),
        "test_accuracy": round(test_acc, 4),
        "test_inception_score": round(is_mean, 4),
        "torch": torch.__version__,
        "licence": "weights trained on procedurally generated shapes3d (no third-party data)",
    }
    # one JSON string under one key: safetensors stores metadata as a hash map whose order varies
    metadata = {"genbench": json.dumps(training, sort_keys=True)}
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=metadata)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"sha256 {sha256_file(args.out)}")


if __name__ == "__main__":
    main()
