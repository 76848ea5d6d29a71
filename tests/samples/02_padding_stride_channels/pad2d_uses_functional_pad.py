# replaces: pad2d
# loses: pad2d
# mistake: calls torch.nn.functional.pad, which the task forbids for pad2d (allowed elsewhere)
import torch.nn.functional as F


def pad2d(X, padding):
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    if p_h < 0 or p_w < 0 or X.dim() < 2:
        raise ValueError("bad padding or input")
    return F.pad(X, (p_w, p_w, p_h, p_h))
