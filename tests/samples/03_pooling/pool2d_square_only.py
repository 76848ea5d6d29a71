# replaces: pool2d
# loses: pool2d
# mistake: uses the window height, padding and stride of the first axis for both axes
import torch.nn.functional as F


def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}")
    k = pool_size if isinstance(pool_size, int) else pool_size[0]
    p = padding if isinstance(padding, int) else padding[0]
    s = k if stride is None else (stride if isinstance(stride, int) else stride[0])
    if p > k // 2:
        raise ValueError("padding over half the window")
    Xp = F.pad(X, (p, p, p, p), value=float("-inf") if mode == "max" else 0.0)
    H, W = (Xp.shape[0] - k) // s + 1, (Xp.shape[1] - k) // s + 1
    stacked = torch.stack([Xp[a:a + s * (H - 1) + 1:s, b:b + s * (W - 1) + 1:s] for a in range(k) for b in range(k)])
    return stacked.amax(0) if mode == "max" else stacked.mean(0)
