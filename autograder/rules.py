"""The from-scratch rule: which forbidden routes each graded item may not take.

The worker reports every watched route it saw during a call (an aten
convolution, pooling, im2col or padding operator reached by any Python path;
numpy or scipy convolutions; autograd), as "<route> in cell <grade_id>". A route
an item may not take scores the whole item 0, also when it was taken inside
another of the student's functions that the item calls (Conv2D built on a
corr2d that calls F.conv2d is not built from scratch either).
"""

from __future__ import annotations

import re

AUTOGRAD_ROUTES = {"torch.autograd.backward", "torch.autograd.grad", "Tensor.backward"}
PADDING_OP = re.compile(r"^aten\.\w*pad\w*\.")

# Items whose task explicitly allows autograd (contract: learn_kernel).
AUTOGRAD_ALLOWED = {"01_corr2d/learn_kernel"}

# torch.nn.functional.pad is allowed everywhere except where padding is the task.
PADDING_FORBIDDEN = {"02_padding_stride_channels/pad2d"}

# Assignments where built-in layers are allowed (contract: 05_lenet).
RULE_FREE_ASSIGNMENTS = {"05_lenet"}


def violations(item_id: str, routes: set[str]) -> list[str]:
    """The routes that break the rule for ``item_id`` ("01_corr2d/corr2d")."""
    if item_id.split("/")[0] in RULE_FREE_ASSIGNMENTS:
        return []
    broken = []
    for route in routes:
        what = route.split(" in cell ")[0]
        if what in AUTOGRAD_ROUTES and item_id in AUTOGRAD_ALLOWED:
            continue
        if PADDING_OP.match(what) and item_id not in PADDING_FORBIDDEN:
            continue
        broken.append(route)
    return sorted(broken)
