"""Knowledge distillation for QAT: a low-precision student learns from a higher-precision teacher's logits.

The loss (Hinton et al., 2015) mixes the usual cross entropy on the labels with the KL divergence between
the teacher's and the student's softened class distributions:

    (1 - w) * CE(student, labels) + w * T^2 * KL(softmax(teacher / T) || softmax(student / T))

T^2 keeps the soft term's gradients on the scale of the hard term's as T grows. `train.py --teacher` uses it
to train the 2a4w network with the 4a4w checkpoint as teacher: the teacher sees the same augmented batch,
in eval mode and without gradients.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, weight: float,
                      temperature: float, label_smoothing: float = 0.0) -> torch.Tensor:
    hard = F.cross_entropy(student, labels, label_smoothing=label_smoothing)
    if weight == 0:
        return hard
    soft = F.kl_div(F.log_softmax(student / temperature, dim=1), F.log_softmax(teacher / temperature, dim=1),
                    reduction="batchmean", log_target=True)
    return (1.0 - weight) * hard + weight * temperature ** 2 * soft


def frozen_teacher(model: nn.Module) -> nn.Module:
    """The teacher as the loss needs it: eval mode (BN running statistics, no update), no parameter gradients."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
