#!/usr/bin/env python3
"""PyTorch peer of jresnet's training benchmark: the tutorial's ResNet-30 and its plain twin, and He et al.'s ResNet-20/56.

Builds the networks with Keras semantics (TensorFlow "same" padding, BN eps 1e-3; the tutorial's nets
with glorot-uniform kernels, zero biases, BN momentum 0.99, Adam eps 1e-7; He et al.'s with bias-free
He-normal convolutions, BN momentum 0.9, option-A shortcuts, SGD lr 0.1 momentum 0.9 weight decay
1e-4, as jresnet's recipe), checks their parameter counts, then times full fp32 training steps on
synthetic data. Human-readable lines go to stderr; stdout gets one JSON line per model, in the same
form as jresnet's bench.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

STAGE_BLOCKS = (2, 5, 5, 2)
FIRST_FILTERS = 64
NUM_CLASSES = 10
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.01  # PyTorch weights the new batch statistic; Keras momentum 0.99 weights the old one

# (trainable, non-trainable = BN moving mean + moving variance). The tutorial's nets: from the Keras
# model summaries. He et al.'s: convolutions 3*3*Cin*Cout without bias, BN gamma and beta per channel
# (16 + 6n*16 + 6n*32 + 6n*64 channels for n blocks per stage), Dense 64*10 + 10; 0.27M and 0.85M as
# in the paper's Table 6.
KERAS_PARAMS = {
    "resnet30": (15_607_568, 12_422),
    "plain30": (15_434_640, 12_422),
    "resnet20": (269_722, 1_376),
    "resnet56": (853_018, 4_064),
}
HE_BLOCKS = {"resnet20": 3, "resnet56": 9}
HE_BN_MOMENTUM = 0.1  # Keras momentum 0.9


def same_padding(size, kernel, stride):
    """TensorFlow "same": (before, after); an odd total puts the extra row/column after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Keras Conv2D(padding="same"), glorot-uniform kernel, zero bias."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=bias)
        if bias:
            nn.init.xavier_uniform_(self.weight)
            nn.init.zeros_(self.bias)
        else:  # He et al.'s nets: He-normal, BatchNormalization follows
            nn.init.kaiming_normal_(self.weight, nonlinearity="relu")

    def forward(self, x):
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = same_padding(x.shape[-2], k, s)
        left, right = same_padding(x.shape[-1], k, s)
        if top == bottom and left == right:
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left))
        # cuDNN only pads symmetrically, so the asymmetric case pads explicitly first.
        return F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight, self.bias, self.stride, 0)


def batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=BN_MOMENTUM)


def relu_bn(channels):
    """The tutorial's relu_bn: ReLU first, then BatchNormalization."""
    return nn.Sequential(nn.ReLU(), batch_norm(channels))


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, filters, downsample):
        super().__init__()
        self.conv1 = SameConv2d(in_channels, filters, 3, 2 if downsample else 1)
        self.relu_bn1 = relu_bn(filters)
        self.conv2 = SameConv2d(filters, filters, 3, 1)
        self.shortcut = SameConv2d(in_channels, filters, 1, 2) if downsample else nn.Identity()
        self.relu_bn2 = relu_bn(filters)

    def forward(self, x):
        y = self.conv2(self.relu_bn1(self.conv1(x)))
        return self.relu_bn2(self.shortcut(x) + y)


def plain_pair(in_channels, filters, downsample):
    """A residual block without its shortcut: two conv + relu_bn units."""
    return nn.Sequential(
        SameConv2d(in_channels, filters, 3, 2 if downsample else 1), relu_bn(filters),
        SameConv2d(filters, filters, 3, 1), relu_bn(filters))


def he_conv_bn(in_channels, filters, stride):
    return nn.Sequential(SameConv2d(in_channels, filters, 3, stride, bias=False),
                         nn.BatchNorm2d(filters, eps=BN_EPSILON, momentum=HE_BN_MOMENTUM))


class HeBlock(nn.Module):
    """conv-BN-ReLU, conv-BN, + shortcut, ReLU; option A (subsample, zero channels half before and
    half after) where the size changes, as jresnet's SubsampleChannelPad."""

    def __init__(self, in_channels, filters, stride):
        super().__init__()
        self.first = he_conv_bn(in_channels, filters, stride)
        self.second = he_conv_bn(filters, filters, 1)
        self.stride, self.pad_before = stride, (filters - in_channels) // 2
        self.pad_after = filters - in_channels - self.pad_before

    def forward(self, x):
        y = self.second(F.relu(self.first(x)))
        shortcut = x
        if self.stride != 1 or self.pad_before or self.pad_after:
            shortcut = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad_before, self.pad_after))
        return F.relu(y + shortcut)


def build_he_model(name):
    """He et al.'s CIFAR-10 ResNet of 6n+2 layers (jresnet's HeNets.resnet)."""
    layers = [he_conv_bn(3, 16, 1), nn.ReLU()]
    in_channels = 16
    for stage in range(3):
        filters = 16 << stage
        for block in range(HE_BLOCKS[name]):
            layers.append(HeBlock(in_channels, filters, 2 if block == 0 and stage > 0 else 1))
            in_channels = filters
    dense = nn.Linear(in_channels, NUM_CLASSES)
    nn.init.xavier_uniform_(dense.weight)
    nn.init.zeros_(dense.bias)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), dense]
    return nn.Sequential(*layers)


def build_model(name):
    """Input 32x32x3 (raw 0..255) -> logits; the final softmax lives in the loss."""
    if name in HE_BLOCKS:
        return build_he_model(name)
    unit = {"resnet30": ResidualBlock, "plain30": plain_pair}[name]
    layers = [batch_norm(3), SameConv2d(3, FIRST_FILTERS, 3, 1), relu_bn(FIRST_FILTERS)]
    in_channels, filters = FIRST_FILTERS, FIRST_FILTERS
    for stage, blocks in enumerate(STAGE_BLOCKS):
        for block in range(blocks):
            layers.append(unit(in_channels, filters, downsample=(block == 0 and stage != 0)))
            in_channels = filters
        filters *= 2
    dense = nn.Linear(in_channels, NUM_CLASSES)
    nn.init.xavier_uniform_(dense.weight)
    nn.init.zeros_(dense.bias)
    layers += [nn.AvgPool2d(4), nn.Flatten(), dense]
    return nn.Sequential(*layers)


def parameter_counts(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    moving_stats = sum(b.numel() for n, b in model.named_buffers()
                       if n.endswith("running_mean") or n.endswith("running_var"))
    return trainable, moving_stats


def check_parameter_counts(name, model):
    found = parameter_counts(model)
    if found != KERAS_PARAMS[name]:
        raise SystemExit(f"{name}: expected (trainable, non-trainable) = {KERAS_PARAMS[name]}, "
                         f"found {found}")
    return found


def training_step_flops(model, batch):
    """2*K*K*Cin*Cout*Hout*Wout per conv and 2*in*out per dense, forward; x3 for a training step."""
    per_image = []

    def count_conv(module, inputs, output):
        k_h, k_w = module.kernel_size
        per_image.append(2 * k_h * k_w * module.in_channels * module.out_channels
                         * output.shape[-2] * output.shape[-1])

    def count_dense(module, inputs, output):
        per_image.append(2 * module.in_features * module.out_features)

    hooks = [m.register_forward_hook(count_conv if isinstance(m, nn.Conv2d) else count_dense)
             for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()  # keeps the moving statistics untouched
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32, device=next(model.parameters()).device))
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    return 3 * sum(per_image) * batch


def make_optimizer(name, model):
    """jresnet bench's optimizer for the model: its recipe's (SGD for He et al.'s nets, else Adam)."""
    if name in HE_BLOCKS:
        return torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)


def time_training(name, model, args, device, channels_last):
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(device=device, memory_format=memory_format).train()
    optimizer = make_optimizer(name, model)
    images = (torch.rand(args.batch_size, 3, 32, 32, device=device) * 255).contiguous(
        memory_format=memory_format)
    labels = torch.randint(0, NUM_CLASSES, (args.batch_size,), device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(args.warmup):
        loss = step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                  for _ in range(args.steps)]
        for start, end in events:
            start.record()
            loss = step()
            end.record()
        torch.cuda.synchronize(device)
        step_ms = [start.elapsed_time(end) for start, end in events]
    else:
        step_ms = []
        for _ in range(args.steps):
            began = time.perf_counter()
            loss = step()
            step_ms.append((time.perf_counter() - began) * 1e3)
    final_loss = loss.item()
    if not math.isfinite(final_loss):
        raise SystemExit(f"training diverged: loss {final_loss} after {args.warmup + args.steps} steps")
    return statistics.median(step_ms), final_loss


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, found {text}")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, found {text}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["resnet30", "plain30", "resnet20", "resnet56", "both"], default="both",
                        help="both = resnet30 and plain30")
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--steps", type=positive_int, default=50, help="timed steps")
    parser.add_argument("--warmup", type=non_negative_int, default=10, help="untimed steps first")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 in cuDNN convolutions and matmuls")
    parser.add_argument("--channels-last", action="store_true",
                        help="NHWC memory format only (on cpu the default times NCHW and NHWC, alternated, "
                             "and reports the faster)")
    parser.add_argument("--threads", type=positive_int, default=os.cpu_count(),
                        help="intra-op threads on cpu (default: every core, %(default)s here)")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device cuda: no CUDA device visible to torch {torch.__version__} "
                         f"(built for CUDA {torch.version.cuda}); use --device cpu")
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(args.seed)
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    # CUDA keeps the one layout asked for; the CPU's two layouts take different oneDNN paths, so both run.
    layouts = [True] if args.channels_last else [False] if device.type == "cuda" else [False, True]

    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
          f"{args.device} ({where}), tf32 {args.tf32}, "
          f"layouts {', '.join('channels_last' if c else 'NCHW' for c in layouts)}", file=sys.stderr)

    results = []
    for name in (["resnet30", "plain30"] if args.model == "both" else [args.model]):
        timings = []
        for channels_last in layouts:
            torch.manual_seed(args.seed)
            model = build_model(name)
            trainable, moving_stats = check_parameter_counts(name, model)
            flops = training_step_flops(model, args.batch_size)
            step_ms, final_loss = time_training(name, model, args, device, channels_last)
            layout = "channels_last" if channels_last else "NCHW"
            print(f"{name} ({layout}): {trainable:,} trainable + {moving_stats:,} moving statistics, "
                  f"{flops / 1e9:.1f} GFLOP per step, median {step_ms:.3f} ms over {args.steps} steps "
                  f"after {args.warmup} warm-up, last loss {final_loss:.4f}", file=sys.stderr)
            timings.append((step_ms, layout))
            del model
        step_ms, layout = min(timings)
        results.append({
            "model": name,
            "device": args.device,
            "batch": args.batch_size,
            "images_per_s": round(args.batch_size / (step_ms / 1e3), 1),
            "step_ms_median": round(step_ms, 3),
            "gflops_per_s": round(flops / (step_ms / 1e3) / 1e9, 1),
            "impl": "pytorch-eager",
            "memory_format": layout,
            "threads": torch.get_num_threads() if device.type == "cpu" else None,
        })
        if device.type == "cuda":
            torch.cuda.empty_cache()
    for result in results:
        print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
