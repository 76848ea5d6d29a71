# replaces: pool2d
# loses: pool2d
# mistake: average pooling divides the caller's tensor in place (X /= k_h * k_w) before summing windows
import torch.nn.functional as F


def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}")
    k_h, k_w = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    s_h, s_w = (k_h, k_w) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    if p_h > k_h // 2 or p_w > k_w // 2:
        raise ValueError("padding over half the window")
    if mode == "avg":
        with torch.no_grad():
            X /= k_h * k_w
    Xp = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf") if mode == "max" else 0.0)
    H, W = (Xp.shape[0] - k_h) // s_h + 1, (Xp.shape[1] - k_w) // s_w + 1
    stacked = torch.stack([Xp[a:a + s_h * (H - 1) + 1:s_h, b:b + s_w * (W - 1) + 1:s_w]
                           for a in range(k_h) for b in range(k_w)])
    return stacked.amax(0) if mode == "max" else stacked.sum(0)
