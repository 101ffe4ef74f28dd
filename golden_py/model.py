"""VGG16_quant for CIFAR-10 with the course's module numbering (features[27] is the squeeze layer s->s).

Two numberings exist in the course, and each checkpoint variant keeps the one its notebook uses:
- squeeze 8 (notebook 001, 4a4w): [27] QConv(8->8) [28] ReLU [29] QConv(8->512) ...
- squeeze 16 (notebook 003, 2a4w): [27] QConv(16->16) [28] Identity (the removed BN) [29] ReLU
  [30] QConv(16->512) ...; every later index is one higher than in the squeeze-8 numbering.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .quant import QuantConv2d

MEAN = (0.491, 0.482, 0.447)
STD = (0.247, 0.243, 0.262)

# 'S' marks the squeeze block: [24] QConv(256->s) [25] BN [26] ReLU [27] QConv(s->s) ([28] Identity for
# squeeze 16) ReLU, QConv(s->512) BN ReLU. Keeping it inline keeps the indices users know.
CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", "S", "M", 512, 512, 512, "M"]


class VGG16Quant(nn.Module):
    def __init__(self, squeeze: int = 8, a_bit: int = 4, w_bit: int = 4, num_classes: int = 10,
                 squeeze_identity: bool | None = None):
        super().__init__()
        self.squeeze = squeeze
        self.a_bit = a_bit
        self.w_bit = w_bit
        # notebook 003 keeps the slot of the squeeze conv's removed BN as an Identity (see module doc); its
        # 2a4w model (squeeze 16) always does, and course checkpoints of either width may
        self.squeeze_identity = squeeze == 16 if squeeze_identity is None else squeeze_identity
        self.features = self._make_layers()
        self.classifier = nn.Linear(512, num_classes)

    def _conv(self, cin, cout):
        return QuantConv2d(cin, cout, kernel_size=3, padding=1, w_bit=self.w_bit, a_bit=self.a_bit)

    def _make_layers(self) -> nn.Sequential:
        layers: list[nn.Module] = []
        cin = 3
        for item in CFG:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            elif item == "S":
                s = self.squeeze
                layers += [self._conv(cin, s), nn.BatchNorm2d(s), nn.ReLU(inplace=True),
                           self._conv(s, s)]
                if self.squeeze_identity:
                    layers.append(nn.Identity())
                layers += [nn.ReLU(inplace=True),
                           self._conv(s, 512), nn.BatchNorm2d(512), nn.ReLU(inplace=True)]
                cin = 512
            else:
                layers += [self._conv(cin, item), nn.BatchNorm2d(item), nn.ReLU(inplace=True)]
                cin = item
        layers.append(nn.AvgPool2d(kernel_size=1, stride=1))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(torch.flatten(x, 1))

    def arch(self) -> dict:
        arch = {"name": "VGG16_quant", "squeeze": self.squeeze, "a_bit": self.a_bit, "w_bit": self.w_bit,
                "num_classes": self.classifier.out_features}
        if self.squeeze_identity != (self.squeeze == 16):
            arch["squeeze_identity"] = self.squeeze_identity
        return arch

    def quant_conv_indices(self) -> list[int]:
        return [i for i, m in enumerate(self.features) if isinstance(m, QuantConv2d)]


def normalize(images_u8: torch.Tensor) -> torch.Tensor:
    """uint8 NCHW images -> the normalised float input the network was trained on."""
    x = images_u8.float() / 255.0
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std
