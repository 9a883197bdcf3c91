#!/usr/bin/env python3
"""Checks jresnet's semantics against PyTorch on one batch: loss, every gradient, and the moving statistics.

jresnet writes the inputs and its own results (see docs in bench/peers/README.md):
  DIR/weights.safetensors   the model's weights before the step (Keras names and layouts)
  DIR/images.npy, labels.npy the batch (uint8 NHWC, int labels)
  DIR/gradients.safetensors  jresnet's gradients of the mean loss, DIR/result.json its loss
This script loads the weights into bench/peers/torch_resnet.py's model (same layer order), runs the
same training-mode forward and backward in float64, and prints the relative error of each.
"""
import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch_resnet  # noqa: E402


def read_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(data[base + begin:base + end], dtype="<f4").reshape(entry["shape"])
    return out


def keras_layers(weights):
    """Weights grouped per layer, in the file's (Keras creation) order."""
    layers = {}
    for name, value in weights.items():
        layer, param = name.rsplit(".", 1)
        layers.setdefault(layer, {})[param] = value
    return list(layers.items())


def torch_layers(model):
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))]


def load(model, weights):
    pairs = list(zip(keras_layers(weights), torch_layers(model), strict=True))
    with torch.no_grad():
        for (name, params), module in pairs:
            if isinstance(module, nn.Conv2d):
                module.weight.copy_(torch.from_numpy(params["kernel"].transpose(3, 2, 0, 1).copy()))
                module.bias.copy_(torch.from_numpy(params["bias"].copy()))
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.copy_(torch.from_numpy(params["gamma"].copy()))
                module.bias.copy_(torch.from_numpy(params["beta"].copy()))
                module.running_mean.copy_(torch.from_numpy(params["moving_mean"].copy()))
                module.running_var.copy_(torch.from_numpy(params["moving_variance"].copy()))
            else:
                module.weight.copy_(torch.from_numpy(params["kernel"].T.copy()))
                module.bias.copy_(torch.from_numpy(params["bias"].copy()))
    return pairs


def keras_gradient(module, param):
    if isinstance(module, nn.Conv2d):
        return {"kernel": module.weight.grad.numpy().transpose(2, 3, 1, 0), "bias": module.bias.grad.numpy()}[param]
    if isinstance(module, nn.BatchNorm2d):
        return {"gamma": module.weight.grad.numpy(), "beta": module.bias.grad.numpy()}[param]
    return {"kernel": module.weight.grad.numpy().T, "bias": module.bias.grad.numpy()}[param]


def relative(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet30", choices=["resnet30", "plain30"])
    p.add_argument("--dir", required=True, type=Path)
    args = p.parse_args(argv)
    model = torch_resnet.build_model(args.model).double().train()
    pairs = load(model, read_safetensors(args.dir / "weights.safetensors"))
    images = torch.from_numpy(np.load(args.dir / "images.npy").astype(np.float64)).permute(0, 3, 1, 2)
    labels = torch.from_numpy(np.load(args.dir / "labels.npy").astype(np.int64))
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    ours = json.loads((args.dir / "result.json").read_text())
    print(f"loss: torch {loss.item():.8f}  jresnet {ours['loss']:.8f}  relative {abs(loss.item() - ours['loss']) / loss.item():.2e}")
    grads = read_safetensors(args.dir / "gradients.safetensors")
    worst = 0.0
    for (name, params), module in pairs:
        for param in params:
            key = f"{name}.{param}"
            if key in grads:
                err = relative(grads[key], keras_gradient(module, param))
                worst = max(worst, err)
                print(f"{key:45s} gradient relative error {err:.2e}")
    moving = read_safetensors(args.dir / "moving.safetensors")
    for (name, params), module in pairs:
        if isinstance(module, nn.BatchNorm2d):
            # Keras momentum 0.99 and PyTorch 0.01 mean the same update; both use the unbiased variance.
            worst_stat = max(relative(moving[f"{name}.moving_mean"], module.running_mean.numpy()),
                             relative(moving[f"{name}.moving_variance"], module.running_var.numpy()))
            worst = max(worst, worst_stat)
    print(f"worst relative error (gradients, moving statistics): {worst:.2e}")


if __name__ == "__main__":
    main(sys.argv[1:])
